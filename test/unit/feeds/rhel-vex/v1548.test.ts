import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../../../src/feeds/archive.js';
import { convertDocument, type ConvertOptions } from '../../../../src/feeds/rhel-vex/csaf.js';
import { extractFixedInVersion, packageModule, relationshipIndex, walkRelationships } from '../../../../src/feeds/rhel-vex/creator.js';
import { moduleName, packageName } from '../../../../src/feeds/rhel-vex/fields.js';
import { rhelVex } from '../../../../src/feeds/rhel-vex/index.js';
import { convertOptions, documentRecords } from '../../../../src/feeds/rhel-vex/parse.js';
import { parsePurlV013 } from '../../../../src/feeds/rhel-vex/purl-v013.js';
import { RULES } from '../../../../src/feeds/rhel-vex/rules.js';
import { escapeCpe } from '../../../../src/feeds/rhel-vex/status.js';
import { decodeCsaf, type Csaf, type Relationship } from '../../../../src/feeds/rhel-vex/upstream.js';
import type { PackageUrl } from '../../../../src/model/purl.js';
import { DEFAULT_FEEDS_DIR } from '../../../helpers/feed-server.js';

/**
 * claircore v1.5.48 (Clair v4.9.0's pin): expectations from its rhel/vex/parser_test.go. The
 * documents come from the shared claircore testdata and, for those it lacks,
 * test/fixtures/rhel-vex/claircore-v1.5.48-testdata.tar.zst (claircore v1.5.48's testdata).
 */
const CLAIRCORE = path.resolve(DEFAULT_FEEDS_DIR, '../claircore-testdata/rhel-vex');
const TESTDATA = path.resolve(import.meta.dirname, '../../../fixtures/rhel-vex/claircore-v1.5.48-testdata.tar.zst');
const v1548 = (): ConvertOptions => ({ rules: RULES['claircore-v1.5.48'], productCache: new Map() });

const testdata = new Map<string, Buffer>();
beforeAll(async () => {
  for await (const e of readArchive(TESTDATA)) testdata.set(e.name, e.body);
});

const load = (name: string): Buffer => testdata.get(name) ?? readFileSync(path.join(CLAIRCORE, name));

/** One claircore DeltaParse over `names` in order: records of the last document per name, and the deleted names. */
function deltaParse(names: string[]): { vulns: number; deleted: number } {
  const opts = v1548();
  const out = new Map<string, number>();
  const deleted: string[] = [];
  for (const n of names) {
    const r = convertDocument(decodeCsaf(JSON.parse(load(n).toString('utf8'))), opts);
    if (r.deleted) deleted.push(r.name);
    else out.set(r.name, r.records.length);
  }
  let vulns = 0;
  for (const [name, n] of out) {
    if (n === 0) deleted.push(name);
    vulns += n;
  }
  return { vulns, deleted: deleted.length };
}

describe('feeds/rhel-vex v1.5.48: claircore TestParse', () => {
  it.each([
    ['five_advisories_four_deletions', ['cve-2023-42670.json', 'cve-2023-42669.json', 'cve-2023-4154.json', 'cve-2023-4091.json', 'cve-2023-3961.json',
      'delete_CVE-2023-0030.json', 'delete_CVE-2023-0031.json'], 546, 4],
    ['cve-2022-1705', ['cve-2022-1705.json'], 1069, 0],
    ['cve-2022-38752', ['cve-2022-38752.json'], 47, 0],
    ['cve-2024-7348', ['cve-2024-7348.json'], 910, 0],
  ] as const)('%s → %i vulns, %i deleted', (_, names, vulns, deleted) => {
    expect(deltaParse([...names])).toEqual({ vulns, deleted });
  });
});

describe('feeds/rhel-vex v1.5.48: claircore TestParseCompare', () => {
  it('cve-2024-24786-simple: one fixed record, no Self/Aliases', () => {
    const rs = documentRecords(load('cve-2024-24786-simple.json'), 'cve-2024-24786-simple.json', v1548());
    expect(rs).toHaveLength(1);
    expect(rs[0]).toEqual({
      updater: 'rhel-vex', name: 'CVE-2024-24786',
      description: "A flaw was found in Golang's protobuf module, where the unmarshal function can enter an infinite loop when processing certain invalid inputs. This issue occurs during unmarshaling into a message that includes a google.protobuf.Any or when the UnmarshalOptions.DiscardUnknown option is enabled. This flaw allows an attacker to craft malicious input tailored to trigger the identified flaw in the unmarshal function. By providing carefully constructed invalid inputs, they could potentially cause the function to enter an infinite loop, resulting in a denial of service condition or other unintended behaviors in the affected system.",
      issued: '2024-03-05T00:00:00Z',
      links: 'https://access.redhat.com/security/cve/CVE-2024-24786 https://bugzilla.redhat.com/show_bug.cgi?id=2268046 https://www.cve.org/CVERecord?id=CVE-2024-24786 https://nvd.nist.gov/vuln/detail/CVE-2024-24786 https://go.dev/cl/569356 https://groups.google.com/g/golang-announce/c/ArQ6CDgtEjY/ https://pkg.go.dev/vuln/GO-2024-2611 https://security.access.redhat.com/data/csaf/v2/vex/2024/cve-2024-24786.json',
      severity: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H', normalizedSeverity: 'Medium',
      package: { name: 'cri-tools', version: '', module: '', arch: 'aarch64', kind: 'binary' },
      fixedInVersion: '0:1.29.0-3.1.el9',
      repo: { name: 'cpe:2.3:a:redhat:openshift:4.16:*:el9:*:*:*:*:*', key: 'rhel-cpe-repository', uri: '' },
      archOperation: 'pattern match', dist: null, range: null,
    });
  });
});

describe('feeds/rhel-vex v1.5.48: claircore helper tests', () => {
  it.each([
    ['wildcard version', 'cpe:/a:redhat:openshift:4.*', 'cpe:/a:redhat:openshift:4.%02'],
    ['product with a wildcard', 'cpe:/a:redhat:astarry.*.comp:4.*', 'cpe:/a:redhat:astarry.*.comp:4.%02'],
    ['version with question', 'cpe:/a:redhat:openshift:4.?::el8', 'cpe:/a:redhat:openshift:4.%01::el8'],
    ['question mark can be anywhere', 'cpe:/a:redhat:openshift:4.?.10::el8', 'cpe:/a:redhat:openshift:4.%01.10::el8'],
  ])('TestEscapeCPE %s', (_, cpe, want) => {
    expect(escapeCpe(cpe)).toBe(want);
  });

  const rel = (id: string, pkg: string, repo: string): Relationship => ({
    category: 'default_component_of', full_product_name: { product_id: id, helper: {} }, product_reference: pkg, relates_to_product_reference: repo,
  });
  const tree = (rels: Relationship[]): Csaf => ({
    document: { tracking: { id: '', status: '' }, references: [] }, vulnerabilities: [],
    product_tree: { branches: [], product: { product_id: '', helper: {} }, relationships: rels },
  });
  it.each([
    ['no_relationship', [], 'EAP 7.4 log4j async', undefined],
    ['simple_relationship', [
      rel('ResilientStorage-9.4.0.Z.MAIN.EUS:fence-agents-common-0:4.10.0-62.el9_4.3.noarch', 'fence-agents-common-0:4.10.0-62.el9_4.3.noarch', 'ResilientStorage-9.4.0.Z.MAIN.EUS'),
    ], 'ResilientStorage-9.4.0.Z.MAIN.EUS:fence-agents-common-0:4.10.0-62.el9_4.3.noarch',
    { pkg: 'fence-agents-common-0:4.10.0-62.el9_4.3.noarch', mod: '', repo: 'ResilientStorage-9.4.0.Z.MAIN.EUS' }],
    ['two_level_relationship', [
      rel('AppStream-8.10.0.Z.MAIN.EUS:httpd:2.4:8100020240612075645:489197e6', 'httpd:2.4:8100020240612075645:489197e6', 'AppStream-8.10.0.Z.MAIN.EUS'),
      rel('AppStream-8.10.0.Z.MAIN.EUS:httpd:2.4:8100020240612075645:489197e6:httpd-0:2.4.37-65.module+el8.10.0+21982+14717793.aarch64',
        'httpd-0:2.4.37-65.module+el8.10.0+21982+14717793.aarch64', 'AppStream-8.10.0.Z.MAIN.EUS:httpd:2.4:8100020240612075645:489197e6'),
    ], 'AppStream-8.10.0.Z.MAIN.EUS:httpd:2.4:8100020240612075645:489197e6:httpd-0:2.4.37-65.module+el8.10.0+21982+14717793.aarch64',
    { pkg: 'httpd-0:2.4.37-65.module+el8.10.0+21982+14717793.aarch64', mod: 'httpd:2.4:8100020240612075645:489197e6', repo: 'AppStream-8.10.0.Z.MAIN.EUS' }],
    ['two_times_two_level_relationship', [
      rel('J-COMP:JMC', 'JMC', 'J-COMP'), rel('CROS:J-MOD', 'J-MOD', 'CROS'), rel('CROS:J-MOD:J-COMP:JMC', 'J-COMP:JMC', 'CROS:J-MOD'),
    ], 'CROS:J-MOD:J-COMP:JMC', { pkg: 'JMC', mod: 'J-MOD', repo: 'CROS' }],
    ['perl_module_relationships', [
      rel('AppStream-8.10.0.GA:perl:5.32:8100020240314121426:9fe1d287', 'perl:5.32:8100020240314121426:9fe1d287', 'AppStream-8.10.0.GA'),
      rel('AppStream-8.10.0.GA:perl:5.32:8100020240314121426:9fe1d287:perl-Carp-0:1.50-439.module+el8.10.0+21354+3ad137bb.noarch',
        'perl-Carp-0:1.50-439.module+el8.10.0+21354+3ad137bb.noarch', 'AppStream-8.10.0.GA:perl:5.32:8100020240314121426:9fe1d287'),
    ], 'AppStream-8.10.0.GA:perl:5.32:8100020240314121426:9fe1d287:perl-Carp-0:1.50-439.module+el8.10.0+21354+3ad137bb.noarch',
    { pkg: 'perl-Carp-0:1.50-439.module+el8.10.0+21354+3ad137bb.noarch', mod: 'perl:5.32:8100020240314121426:9fe1d287', repo: 'AppStream-8.10.0.GA' }],
  ] as const)('TestWalkRelationships %s', (_, rels, id, want) => {
    expect(walkRelationships(relationshipIndex(tree([...rels])), id)).toEqual(want);
  });

  it.each([
    ['simple', 'pkg:rpmmod/redhat/postgresql@13:8060020240903094008:ad008a3a', 'postgresql:13'],
    ['with minor', 'pkg:rpmmod/redhat/postgresql@9.2:8060020240903094008:ad008a3a', 'postgresql:9.2'],
    ['no colon', 'pkg:rpmmod/redhat/postgresql@9', 'postgresql:9'],
    ['unconventional', 'pkg:rpmmod/redhat/postgresql:15/postgresql', 'postgresql:15'],
    ['invalid purl', 'invalid', ''],
    ['non Red Hat PURL', 'pkg:rpmmod/oracle/postgresql@9', ''],
  ])('TestCreatePackageModule %s', (_, purl, want) => {
    expect(packageModule({ product_id: '', helper: { purl } }, 'v0.1.3')).toBe(want);
  });

  const purl = (p: Partial<PackageUrl> & Pick<PackageUrl, 'type' | 'name'>): PackageUrl => ({
    namespace: '', version: '', subpath: '', ...p, qualifiers: [...(p.qualifiers ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1)),
  });
  const q = (o: Record<string, string>) => Object.entries(o).map(([key, value]) => ({ key, value }));
  const keepalived = { type: 'oci', name: 'keepalived-rhel9', version: 'sha256:36abd2b22ebabea813c5afde35b0b80a200056f811267e89f0270da9155b1a22' } as const;
  const apk = purl({ type: 'apk', name: 'nice APK', version: 'v1.1.1', qualifiers: q({ arch: 'ppc64le' }) });

  it.each([
    ['old version', purl({ type: 'rpmmod', namespace: 'redhat', name: 'postgresql', version: '13:8060020240903094008:ad008a3a' }), ''],
    ['simple', purl({ type: 'rpm', namespace: 'redhat', name: 'postgresql-upgrade-devel-debuginfo', version: '15.8-1.module+el9.4.0+22208+cd6b92ff',
      qualifiers: q({ arch: 's390x', rpmmod: 'postgresql:15:9040020240812115436:rhel9' }) }), 'postgresql:15'],
    ['short version', purl({ type: 'rpm', namespace: 'redhat', name: 'golang-race', qualifiers: q({ rpmmod: 'go-toolset:rhel8' }) }), 'go-toolset:rhel8'],
    ['empty rpmmod (error)', purl({ type: 'rpm', namespace: 'redhat', name: 'golang-race', qualifiers: q({ rpmmod: '' }) }), undefined],
  ])('TestComponentPURLToModuleName %s', (_, p, want) => {
    expect(moduleName(p)).toBe(want);
  });

  it.each([
    ['rpm_with_epoch', purl({ type: 'rpm', namespace: 'redhat', name: 'buildah-debugsource', version: '1.24.6-5.module+el8.8.0+18083+cd85596b',
      qualifiers: q({ arch: 'ppc64le', epoch: '1' }) }), '1:1.24.6-5.module+el8.8.0+18083+cd85596b'],
    ['rpm_without_epoch', purl({ type: 'rpm', namespace: 'redhat', name: 'buildah-debugsource', version: '1.24.6-5.module+el8.8.0+18083+cd85596b',
      qualifiers: q({ arch: 'ppc64le' }) }), '0:1.24.6-5.module+el8.8.0+18083+cd85596b'],
    ['oci_with_tag', purl({ ...keepalived, qualifiers: q({ arch: 'ppc64le', repository_url: 'registry.redhat.io/rhceph/keepalived-rhel9', tag: '2.2.4-3' }) }), '2.2.4-3'],
    ['oci_without_tag (error)', purl({ ...keepalived, qualifiers: q({ arch: 'ppc64le', repository_url: 'registry.redhat.io/rhceph/keepalived-rhel9' }) }), undefined],
    ['unsupported_type (error)', apk, undefined],
  ])('TestExtractVersion %s', (_, p, want) => {
    expect(extractFixedInVersion(p)).toBe(want);
  });

  it.each([
    ['rpm_simple', purl({ type: 'rpm', namespace: 'redhat', name: 'buildah-debugsource', version: '1.24.6-5.module+el8.8.0+18083+cd85596b',
      qualifiers: q({ arch: 'ppc64le', epoch: '1' }) }), 'buildah-debugsource'],
    ['oci_with_repository_url', purl({ ...keepalived, qualifiers: q({ arch: 'ppc64le', repository_url: 'registry.redhat.io/rhceph/keepalived-rhel9', tag: '2.2.4-3' }) }),
      'rhceph/keepalived-rhel9'],
    ['oci_without_repository_url', purl({ ...keepalived, qualifiers: q({ arch: 'ppc64le' }) }), 'keepalived-rhel9'],
    ['oci_invalid_repository_url (error)', purl({ ...keepalived, qualifiers: q({ arch: 'ppc64le', repository_url: 'registry.redhat.iorhcephkeepalived-rhel9' }) }), undefined],
    ['repository_url_with_namespace', purl({ ...keepalived, namespace: 'something', qualifiers: q({ arch: 'ppc64le', repository_url: 'registry.redhat.io/rhceph/keepalived-rhel9' }) }),
      'something/keepalived-rhel9'],
    ['unsupported_type (error)', apk, undefined],
  ])('TestExtractPackageName %s', (_, p, want) => {
    expect(packageName(p)).toBe(want);
  });
});

describe('feeds/rhel-vex v1.5.48: packageurl-go v0.1.3 parsing', () => {
  it('qualifier values are query-unescaped (`+` is a space), unlike v0.1.6', () => {
    const p = parsePurlV013('pkg:rpm/redhat/bar@2.0+git-1.el9?arch=s390x&rpmmod=mod+x:1:2:3');
    expect(p).toMatchObject({ type: 'rpm', namespace: 'redhat', name: 'bar', version: '2.0+git-1.el9' });
    expect(p.qualifiers).toEqual([{ key: 'arch', value: 's390x' }, { key: 'rpmmod', value: 'mod x:1:2:3' }]);
  });

  it('an OCI purl with an escaped digest and a repository_url', () => {
    expect(parsePurlV013('pkg:oci/clair-rhel8@sha256%3Abbfe?arch=amd64&repository_url=registry.redhat.io/quay/clair-rhel8&tag=v3.5.7-8')).toEqual({
      type: 'oci', namespace: '', name: 'clair-rhel8', version: 'sha256:bbfe', subpath: '',
      qualifiers: [{ key: 'arch', value: 'amd64' }, { key: 'repository_url', value: 'registry.redhat.io/quay/clair-rhel8' }, { key: 'tag', value: 'v3.5.7-8' }],
    });
  });
});

describe('feeds/rhel-vex: --target claircore-v1.5.48', () => {
  it('is declared and selects the v1.5.48 rules; the rules option still overrides it', () => {
    expect(rhelVex.targets).toEqual(['claircore-v1.5.54', 'claircore-v1.5.48']);
    expect(convertOptions({ target: 'claircore-v1.5.48' }).rules).toBe(RULES['claircore-v1.5.48']);
    expect(convertOptions({ target: 'claircore-v1.5.48', 'rhel-vex-rules': 'claircore-head' }).rules).toBe(RULES['claircore-head']);
    expect(convertOptions({}).rules).toBe(RULES['claircore-v1.5.54']);
  });
});
