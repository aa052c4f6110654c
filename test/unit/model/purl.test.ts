import { describe, expect, it } from 'vitest';
import { PurlError, parsePurl, qualifier } from '../../../src/model/purl.js';

describe('model/purl: VEX purls', () => {
  it('parses the spec §4.12 example A purl', () => {
    expect(parsePurl('pkg:rpm/redhat/cri-tools@1.29.0-3.1.el9?arch=aarch64')).toEqual({
      type: 'rpm', namespace: 'redhat', name: 'cri-tools', version: '1.29.0-3.1.el9',
      qualifiers: [{ key: 'arch', value: 'aarch64' }], subpath: '',
    });
  });

  it('parses the spec §4.12 example D OCI purl, qualifiers sorted and decoded', () => {
    const p = parsePurl('pkg:oci/clair-rhel8@sha256%3Abbfe?tag=v3.5.7-8&arch=amd64&repository_url=registry.redhat.io/quay/clair-rhel8');
    expect(p.name).toBe('clair-rhel8');
    expect(p.version).toBe('sha256:bbfe');
    expect(p.qualifiers.map((q) => q.key)).toEqual(['arch', 'repository_url', 'tag']);
    expect(qualifier(p, 'repository_url')).toBe('registry.redhat.io/quay/clair-rhel8');
  });
});

describe('model/purl: spec §2.5.2 rules', () => {
  it('matches the scheme case-insensitively and strips leading slashes', () => {
    expect(parsePurl('PKG:///rpm/redhat/x@1').name).toBe('x');
  });
  it('lowercases the type, the rpm namespace, but not rpm or oci names', () => {
    const p = parsePurl('pkg:RPM/RedHat/NetworkManager@1.0');
    expect([p.type, p.namespace, p.name]).toEqual(['rpm', 'redhat', 'NetworkManager']);
    expect(parsePurl('pkg:oci/Quay/Clair').name).toBe('Clair');
    expect(parsePurl('pkg:oci/Quay/Clair').namespace).toBe('Quay');
    expect(parsePurl('pkg:deb/Debian/Curl').name).toBe('curl');
  });
  it('takes the version after the last @ unless it is at index 0', () => {
    expect(parsePurl('pkg:rpm/redhat/a@b@1.0').version).toBe('1.0');
    expect(parsePurl('pkg:rpm/redhat/a@b@1.0').name).toBe('a@b');
    expect(() => parsePurl('pkg:rpm/@1.0')).toThrow(PurlError);
  });
  it('percent-decodes with path semantics: + stays +', () => {
    expect(parsePurl('pkg:rpm/redhat/gcc-c%2B%2B@8.5.0+el8?x=a+b').name).toBe('gcc-c++');
    expect(parsePurl('pkg:rpm/redhat/gcc-c%2B%2B@8.5.0+el8?x=a+b').version).toBe('8.5.0+el8');
    expect(parsePurl('pkg:rpm/redhat/gcc-c%2B%2B@8.5.0+el8?x=a+b').qualifiers).toEqual([{ key: 'x', value: 'a+b' }]);
  });
  it('drops empty namespace segments', () => {
    expect(parsePurl('pkg:maven//org.apache//commons/io').namespace).toBe('org.apache/commons');
  });
  it('drops qualifiers with empty values, lowercases keys, rejects duplicates', () => {
    expect(parsePurl('pkg:rpm/redhat/x?Epoch=1&tag=&arch').qualifiers).toEqual([{ key: 'epoch', value: '1' }]);
    expect(() => parsePurl('pkg:rpm/redhat/x?arch=a&ARCH=b')).toThrow(/duplicate qualifier key/);
    expect(() => parsePurl('pkg:rpm/redhat/x?a=1;b=2')).toThrow(/semicolon/);
    expect(() => parsePurl('pkg:rpm/redhat/x?1a=1')).toThrow(/invalid qualifier key/);
  });
  it('keeps the subpath undecoded, trimming slashes', () => {
    expect(parsePurl('pkg:golang/x/y#/sub%20path/').subpath).toBe('sub%20path');
    expect(() => parsePurl('pkg:golang/x/y#a/../b')).toThrow(PurlError);
  });
  it.each(['rpm/redhat/x', 'pkg:rpm', 'pkg:/x', 'pkg:rpm/redhat/', 'pkg:rpm/redhat/x%zz', 'pkg:1rpm/x'])('rejects %j', (s) => {
    expect(() => parsePurl(s)).toThrow(PurlError);
  });
});

// Cases from packageurl-go v0.1.6 packageurl_test.go (TestRoundtrip, TestQualifierMissingEqual).
describe('model/purl: packageurl-go v0.1.6 tests', () => {
  it.each([
    ['pkg:github/golang/mod@refs/tags/v0.30.0', { type: 'github', namespace: 'golang', name: 'mod', version: 'refs/tags/v0.30.0', qualifiers: [], subpath: '' }],
    ['pkg:golang/go.opencensus.io@v0.20.1', { type: 'golang', namespace: '', name: 'go.opencensus.io', version: 'v0.20.1', qualifiers: [], subpath: '' }],
    ['pkg:deb/debian/nuget@2.8.7+md510+dhx1-1.1?distro=stretch&repository_url=http://deb.debian.org&arch=amd64#subpath/to/file', {
      type: 'deb', namespace: 'debian', name: 'nuget', version: '2.8.7+md510+dhx1-1.1',
      qualifiers: [{ key: 'arch', value: 'amd64' }, { key: 'distro', value: 'stretch' }, { key: 'repository_url', value: 'http://deb.debian.org' }],
      subpath: 'subpath/to/file',
    }],
    ['pkg:npm/@opentelemetry/sdk-trace-node@2.2.0', { type: 'npm', namespace: '@opentelemetry', name: 'sdk-trace-node', version: '2.2.0', qualifiers: [], subpath: '' }],
    ['pkg:npm/test-pkg?key', { type: 'npm', namespace: '', name: 'test-pkg', version: '', qualifiers: [], subpath: '' }],
  ])('%s', (input, want) => {
    expect(parsePurl(input)).toEqual(want);
  });
});
