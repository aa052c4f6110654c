import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import type { ConvertOptions } from '../../../../src/feeds/rhel-vex/csaf.js';
import { documentRecords } from '../../../../src/feeds/rhel-vex/parse.js';
import { RULES } from '../../../../src/feeds/rhel-vex/rules.js';
import { vulnHash } from '../../../../src/model/hash.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';
import { DEFAULT_FEEDS_DIR, parseTxtar } from '../../../helpers/feed-server.js';

const CLAIRCORE = path.resolve(DEFAULT_FEEDS_DIR, '../claircore-testdata/rhel-vex');
const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/rhel-vex');
const v1554: ConvertOptions = { rules: RULES['claircore-v1.5.54'] };
const head: ConvertOptions = { rules: RULES['claircore-head'] };

const doc = (name: string) => readFileSync(path.join(CLAIRCORE, name));
const records = (name: string, opts = v1554) => documentRecords(doc(name), name, opts);

describe('feeds/rhel-vex: record counts of claircore TestParse', () => {
  // claircore v1.5.54 rhel/vex/parser_test.go TestParse
  it.each([
    ['cve-2022-38752.json', 1788],
    ['cve-2023-38545.json', 269],
    ['cve-2024-24786-bad-rpmmod.json', 2],
  ])('v1.5.54: %s → %i', (name, n) => {
    expect(records(name)).toHaveLength(n);
  });

  // claircore HEAD 0f12d7bc parser_test.go = spec §4.12 counts (src/nosrc arches dropped)
  it.each([
    ['cve-2022-38752.json', 1494],
    ['cve-2023-38545.json', 265],
    ['cve-2024-24786-bad-rpmmod.json', 2],
  ])('head: %s → %i', (name, n) => {
    expect(records(name, head)).toHaveLength(n);
  });

  it('head: cve-2022-38752 splits into 12 fixed, 9 known_affected, 1472 not-affected rpm, 1 ancestry (§4.12 C)', () => {
    const rs = records('cve-2022-38752.json', head);
    const by = (f: (r: Vulnerability) => boolean) => rs.filter(f).length;
    expect(by((r) => !r.invert && r.package?.kind === 'binary')).toBe(12);
    expect(by((r) => r.package?.kind === 'source')).toBe(9);
    expect(by((r) => !!r.invert && r.package?.kind === 'binary')).toBe(1472);
    expect(by((r) => !!r.invert && r.package?.kind === 'ancestry')).toBe(1);
  });
});

describe('feeds/rhel-vex: spec §4.12 worked examples', () => {
  it('A: TestParseCompare record and its md5', () => {
    for (const opts of [v1554, head]) {
      const [r, ...rest] = records('cve-2024-24786-simple.json', opts);
      expect(rest).toHaveLength(0);
      expect(r).toMatchObject({
        updater: 'rhel-vex', name: 'CVE-2024-24786', issued: '2024-03-05T00:00:00Z',
        links: 'https://access.redhat.com/security/cve/CVE-2024-24786 https://bugzilla.redhat.com/show_bug.cgi?id=2268046 https://www.cve.org/CVERecord?id=CVE-2024-24786 https://nvd.nist.gov/vuln/detail/CVE-2024-24786 https://go.dev/cl/569356 https://groups.google.com/g/golang-announce/c/ArQ6CDgtEjY/ https://pkg.go.dev/vuln/GO-2024-2611 https://security.access.redhat.com/data/csaf/v2/vex/2024/cve-2024-24786.json',
        severity: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H', normalizedSeverity: 'Medium',
        package: { name: 'cri-tools', version: '', module: '', arch: 'aarch64', kind: 'binary' },
        repo: { name: 'cpe:2.3:a:redhat:openshift:4.16:*:el9:*:*:*:*:*', key: 'rhel-cpe-repository', uri: '' },
        archOperation: 'pattern match', fixedInVersion: '0:1.29.0-3.1.el9', dist: null, range: null,
        self: { space: 'https://access.redhat.com/security/cve/', name: 'CVE-2024-24786' },
        aliases: [{ space: 'CVE', name: '2024-24786' }, { space: 'RHBZ', name: '2268046' }, { space: 'GO', name: '2024-2611' }],
      });
      expect(vulnHash(r)).toBe('25686e22e0d0106e89ec271decbe2ea6');
    }
  });

  it('B (head): puppet-agent, merged arches without src, RHSA link last', () => {
    const r = records('cve-2023-38545.json', head).find(
      (v) => v.package?.name === 'puppet-agent' && v.repo?.name === 'cpe:2.3:a:redhat:rhel_satellite_client:6:*:el6:*:*:*:*:*' && !v.invert,
    );
    expect(r).toMatchObject({ fixedInVersion: '0:7.27.0-1.el6sat', package: { arch: 'i686|amd64|x86_64' } });
    expect(r!.links.endsWith('/vex/2023/cve-2023-38545.json https://access.redhat.com/errata/RHSA-2024:2011')).toBe(true);
  });

  it('C: known_affected rpm and OCI records of cve-2022-38752', () => {
    const rs = records('cve-2022-38752.json');
    expect(rs.find((v) => v.package?.name === 'jenkins-2-plugins' && v.package.kind === 'source')).toMatchObject({
      package: { name: 'jenkins-2-plugins', version: '', module: '', arch: '', kind: 'source' },
      repo: { name: 'cpe:2.3:a:redhat:ocp_tools:*:*:*:*:*:*:*:*', key: 'rhel-cpe-repository', uri: '' },
      fixedInVersion: '', archOperation: 'invalid', severity: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', normalizedSeverity: 'Medium',
    });
    const oci = rs.find((v) => v.package?.name === 'openshift3/metrics-cassandra' && v.package.kind === 'source');
    expect(oci?.repo?.key).toBe('rhcc-container-repository');
    expect(oci?.range).toEqual({ lower: { kind: 'rhctag', v: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, upper: { kind: 'rhctag', v: [2147483647, 0, 0, 0, 0, 0, 0, 0, 0, 0] } });
  });

  it('D: OCI fixed quay/clair-rhel8 from claircore test/rhel/testdata/server.txtar', () => {
    const files = parseTxtar(readFileSync(path.join(FIXTURES, 'claircore-test-rhel-server.txtar'), 'utf8'));
    const body = Buffer.from(files.find((f) => f.name === '/2021/cve-2021-3762.json')!.data);
    for (const opts of [v1554, head]) {
      const rs = documentRecords(body, 'cve-2021-3762.json', opts);
      const r = rs.find((v) => v.package?.name === 'quay/clair-rhel8' && !v.invert)!;
      expect(r).toMatchObject({
        package: { name: 'quay/clair-rhel8', version: '', module: '', arch: 'amd64|x86_64', kind: 'binary' },
        archOperation: 'pattern match', fixedInVersion: 'v3.5.7-8',
        repo: { name: 'cpe:2.3:a:redhat:quay:3:*:el8:*:*:*:*:*', key: 'rhcc-container-repository', uri: '' },
        range: { lower: { kind: 'rhctag', v: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, upper: { kind: 'rhctag', v: [3, 5, 2147483647, 0, 0, 0, 0, 0, 0, 0] } },
        severity: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', normalizedSeverity: 'High', issued: '2021-09-28T12:00:00Z',
      });
      expect(r.links.endsWith(' https://access.redhat.com/errata/RHSA-2021:3665')).toBe(true);
      expect(vulnHash(r)).toBe('80896d23fb77a569c7fc0beb545986ce');
      const kna = rs.filter((v) => v.invert && v.package?.kind === 'ancestry');
      expect(kna).toHaveLength(9);
      for (const v of kna) expect(v).toMatchObject({ severity: 'Unknown', range: { upper: { v: [2147483647, 0, 0, 0, 0, 0, 0, 0, 0, 0] } } });
    }
  });
});

describe('feeds/rhel-vex: documents claircore refuses abort with a FeedError', () => {
  const simple = () => JSON.parse(doc('cve-2024-24786-simple.json').toString('utf8'));
  const fails = (body: Buffer, file: string) => {
    try {
      documentRecords(body, file, v1554);
    } catch (err) {
      expect(err).toBeInstanceOf(FeedError);
      expect((err as FeedError).file).toBe(file);
      return err as FeedError;
    }
    throw new Error('expected a FeedError');
  };

  it('malformed JSON names the file', () => {
    const err = fails(readFileSync(path.join(FIXTURES, 'truncated-cve-2024-24786-simple.json')), 'rhel-vex/2024/cve-2024-24786.json');
    expect(err.message).toMatch(/^feed rhel-vex, file rhel-vex\/2024\/cve-2024-24786\.json: malformed JSON/);
  });

  it('a malformed cve names the record', () => {
    const d = simple();
    d.vulnerabilities[0].cve = 'GHSA-xxxx';
    const err = fails(Buffer.from(JSON.stringify(d)), 'x.json');
    expect(err.place.record).toBe('CVE-2024-24786');
    expect(err.message).toMatch(/malformed CVE ID: "GHSA-xxxx"/);
  });

  it('a CPE that does not unbind names the product', () => {
    const d = simple();
    const text = JSON.stringify(d).replace('"cpe:/a:redhat:openshift:4.16::el9"', '"cpe:/a:redhat:openshift:4.*"');
    const err = fails(Buffer.from(text), 'x.json');
    expect(err.place.record).toBe('CVE-2024-24786 product 9Base-RHOSE-4.16:cri-tools-0:1.29.0-3.1.el9.aarch64');
  });

  it('a purl that does not parse names the product', () => {
    const text = doc('cve-2024-24786-simple.json').toString('utf8').replace('?arch=aarch64"', '?arch=aarch64&arch=x86_64"');
    const err = fails(Buffer.from(text), 'x.json');
    expect(err.message).toMatch(/duplicate qualifier key/);
    expect(err.place.record).toMatch(/^CVE-2024-24786 product /);
  });

  it('a member of the wrong JSON type names the JSON path', () => {
    const d = simple();
    d.vulnerabilities[0].scores = 'x';
    const err = fails(Buffer.from(JSON.stringify(d)), 'x.json');
    expect(err.place.record).toBe('CVE-2024-24786 /vulnerabilities/0/scores');
  });

  it('deletion stubs yield nothing', () => {
    expect(records('delete_CVE-2023-0030.json')).toEqual([]);
  });
});
