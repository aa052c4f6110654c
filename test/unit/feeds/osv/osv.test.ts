import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { advisoryRecords, OsvAbort } from '../../../../src/feeds/osv/convert.js';
import { selectEcosystems } from '../../../../src/feeds/osv/ecosystems.js';
import { dumpRecords } from '../../../../src/feeds/osv/parse.js';
import { OSV_RULES } from '../../../../src/feeds/osv/rules.js';
import { decodeAdvisory, parseFirstJson, type OsvAdvisory } from '../../../../src/feeds/osv/upstream.js';
import { silentLogger } from '../../../../src/log.js';
import { vulnHash } from '../../../../src/model/hash.js';
import { version } from '../../../../src/model/version.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';

const V54 = OSV_RULES['claircore-v1.5.54'];
const FEEDS = path.resolve(import.meta.dirname, '../../../../../shared/fixtures/feeds');
const LOCAL = path.resolve(import.meta.dirname, '../../../fixtures/osv');

/** An advisory from OSV JSON, decoded the way claircore decodes it. */
const adv = (json: object): OsvAdvisory => decodeAdvisory(parseFirstJson(JSON.stringify(json)));
const insert = (json: object, eco = 'test', rules = V54) => advisoryRecords(adv(json), { ecosystem: eco, updater: 'test', rules });
const semver = (maj: number, min: number, pat: number) => version('semver', [0, maj, min, pat]);
const INF = version('semver', [65535]);
const ev = (...events: Array<Record<string, string>>) => events;
const goPkg = (events: Array<Record<string, string>>, type = 'SEMVER') => ({ package: { ecosystem: 'go', name: 'something' }, ranges: [{ type, events }] });

describe('osv ecs.Insert: claircore updater/osv/osv_test.go insertTestCases (v1.5.54)', () => {
  const cases: Array<[string, object, Array<{ range: unknown; fixed: string }>]> = [
    ['normal', { id: 'TEST-1', affected: [goPkg(ev({ introduced: '0' }, { fixed: '0.4.0' }))] }, [{ range: { lower: semver(0, 0, 0), upper: semver(0, 4, 0) }, fixed: '0.4.0' }]],
    ['unfixed', { id: 'TEST-1', affected: [goPkg(ev({ introduced: '0' }))] }, [{ range: { lower: semver(0, 0, 0), upper: INF }, fixed: '' }]],
    ['two_affected', { id: 'TEST-1', affected: [goPkg(ev({ introduced: '0' }, { fixed: '0.4.10' })), goPkg(ev({ introduced: '0.5.0' }, { fixed: '0.5.3' }))] }, [
      { range: { lower: semver(0, 0, 0), upper: semver(0, 4, 10) }, fixed: '0.4.10' },
      { range: { lower: semver(0, 5, 0), upper: semver(0, 5, 3) }, fixed: '0.5.3' },
    ]],
    ['three_fixes', { id: 'TEST-1', affected: [goPkg(ev({ introduced: '0' }, { fixed: '2.1.16' }, { introduced: '2.2.0' }, { fixed: '2.2.10' }, { introduced: '2.3.0' }, { fixed: '2.3.5' }))] }, [
      { range: { lower: semver(0, 0, 0), upper: semver(2, 1, 16) }, fixed: '2.1.16' },
      { range: { lower: semver(2, 2, 0), upper: semver(2, 2, 10) }, fixed: '2.2.10' },
      { range: { lower: semver(2, 3, 0), upper: semver(2, 3, 5) }, fixed: '2.3.5' },
    ]],
    ['two_fixes_one_unfixed', { id: 'TEST-1', affected: [goPkg(ev({ introduced: '0' }, { fixed: '2.1.16' }, { introduced: '2.2.0' }, { fixed: '2.2.10' }, { introduced: '2.3.0' }))] }, [
      { range: { lower: semver(0, 0, 0), upper: semver(2, 1, 16) }, fixed: '2.1.16' },
      { range: { lower: semver(2, 2, 0), upper: semver(2, 2, 10) }, fixed: '2.2.10' },
      { range: { lower: semver(2, 3, 0), upper: INF }, fixed: '' },
    ]],
    ['two_consecutive_introduced_invalid', { id: 'TEST-1', affected: [goPkg(ev({ introduced: '2.2.0' }, { introduced: '2.3.0' }))] }, [{ range: { lower: semver(2, 3, 0), upper: INF }, fixed: '' }]],
    ['ecosystem_multi', { id: 'TEST-1', affected: [{ package: { ecosystem: 'PyPI', name: 'cherrypy' }, ranges: [{ type: 'ECOSYSTEM', events: ev({ introduced: '0' }, { fixed: '2.1.1' }, { introduced: '3.0' }, { fixed: '3.0.2' }) }] }] }, [
      { range: null, fixed: 'fixed=2.1.1' }, { range: null, fixed: 'fixed=3.0.2&introduced=3.0' },
    ]],
    ['same package different ranges', { id: 'TEST-1', affected: [{ package: { ecosystem: 'Maven', name: 'something' }, ranges: [
      { type: 'ECOSYSTEM', events: ev({ introduced: '0' }, { fixed: '0.4.0' }) }, { type: 'ECOSYSTEM', events: ev({ introduced: '1.0.0' }, { fixed: '1.2.0' }) }] }] }, [
      { range: null, fixed: 'fixed=0.4.0' }, { range: null, fixed: 'fixed=1.2.0&introduced=1.0.0' },
    ]],
    ['npm_ecosystem_range_skipped', { id: 'GHSA-test-npm-1', affected: [{ package: { ecosystem: 'npm', name: 'nocodb' }, ranges: [{ type: 'ECOSYSTEM', events: ev({ introduced: '0' }, { fixed: '2026.04.1' }) }] }] }, []],
    ['go_ecosystem_range_skipped', { id: 'GHSA-test-go-1', affected: [{ package: { ecosystem: 'Go', name: 'example.com/module' }, ranges: [{ type: 'ECOSYSTEM', events: ev({ introduced: '0' }, { fixed: '1.2.3' }) }] }] }, []],
  ];
  it.each(cases)('%s', (_name, a, want) => {
    const got = insert(a);
    expect(got.map((v) => ({ range: v.range, fixed: v.fixedInVersion }))).toEqual(want);
    for (const v of got) expect(v).toMatchObject({ name: (a as { id: string }).id, self: { space: (a as { id: string }).id.split('-')[0] } });
  });

  it('ecosystem_unfixed: alias link and alias', () => {
    const [v] = insert({ id: 'TEST-1', aliases: ['CVE-1970-0001'], affected: [{ package: { ecosystem: 'PyPI', name: 'cherrypy' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '3.0' }] }] }] });
    expect(v).toMatchObject({ fixedInVersion: 'introduced=3.0', links: 'https://osv.dev/vulnerability/CVE-1970-0001', aliases: [{ space: 'CVE', name: '1970-0001' }], self: { space: 'TEST', name: '1' }, range: null });
  });

  it('links: references, then one alias link per alias (osv_test.go)', () => {
    const links = (refs: string[], aliases: string[]) => insert({ id: 'TEST-1', references: refs.map((url) => ({ url })), aliases, affected: [goPkg(ev({ introduced: '0' }))] })[0].links;
    expect(links(['https://example.com/ref1', 'https://example.com/ref2'], [])).toBe('https://example.com/ref1 https://example.com/ref2');
    expect(links([], ['CVE-2023-0001', 'GHSA-xxxx-yyyy'])).toBe('https://osv.dev/vulnerability/CVE-2023-0001 https://osv.dev/vulnerability/GHSA-xxxx-yyyy');
    expect(links(['https://example.com/ref1'], ['CVE-2023-0001'])).toBe('https://example.com/ref1 https://osv.dev/vulnerability/CVE-2023-0001');
    expect(links([], [])).toBe('');
  });

  it('severity (osv_test.go severityTestCases): CVSS v3, v2, database_specific, CVSS before database_specific', () => {
    const sev = (a: object) => insert({ id: 'TEST-1', affected: [goPkg(ev({ introduced: '0.1' }, { fixed: '0.4' }), 'ECOSYSTEM')], ...a });
    // "go" (lowercase) is not the Go ecosystem, so its ECOSYSTEM range gives records.
    expect(sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }] })[0])
      .toMatchObject({ normalizedSeverity: 'High', severity: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' });
    expect(sev({ severity: [{ type: 'CVSS_V2', score: 'AV:L/AC:H/Au:N/C:C/I:C/A:C' }] })[0]).toMatchObject({ normalizedSeverity: 'Medium', severity: 'AV:L/AC:H/Au:N/C:C/I:C/A:C' });
    expect(sev({ database_specific: { severity: 'moderate' } })[0]).toMatchObject({ normalizedSeverity: 'Medium', severity: 'moderate' });
    expect(sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }], database_specific: { severity: 'moderate' } })[0])
      .toMatchObject({ normalizedSeverity: 'High' });
    // The last CVSS entry sets Severity even when it does not parse; the normalized severity stays.
    expect(sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }, { type: 'CVSS_V2', score: 'bogus' }] })[0])
      .toMatchObject({ normalizedSeverity: 'High', severity: 'bogus' });
  });

  it('the spec\'s synthetic Go record hashes to ed7a034d6f0ab67e176d41ab354b0dd3', () => {
    const [v] = advisoryRecords(adv({
      id: 'GHSA-aaaa-bbbb-cccc', summary: 'Example', published: '2024-01-02T03:04:05Z', references: [{ type: 'WEB', url: 'https://example.com/a' }],
      aliases: ['CVE-2024-0001'], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [{ package: { ecosystem: 'Go', name: 'example.com/mod' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.2.3' }] }] }],
    }), { ecosystem: 'go', updater: 'osv/go', rules: V54 });
    expect(v).toMatchObject({ repo: { name: 'go', key: '', uri: 'https://pkg.go.dev/' }, normalizedSeverity: 'Critical', package: { name: 'example.com/mod', kind: 'binary' } });
    expect(vulnHash(v)).toBe('ed7a034d6f0ab67e176d41ab354b0dd3');
  });

  it('other ECOSYSTEM ranges keep a zero range that is hashed with kind ""; the purl names the package', () => {
    const rs = insert({ id: 'RUSTSEC-1', affected: [{ package: { ecosystem: 'crates.io', name: 'x', purl: 'pkg:cargo/x' }, ranges: [{ type: 'ECOSYSTEM', events: ev({ introduced: '0' }, { fixed: '1.0' }) }] }] }, 'crates.io');
    expect(rs).toHaveLength(2);
    expect(rs[0]).toMatchObject({ fixedInVersion: '1.0', range: { lower: version('', []), upper: version('', [65535]) }, package: { name: 'pkg:cargo/x', kind: '' }, repo: { uri: 'https://crates.io/' } });
  });

  it('ids: an id without "-" aborts (v1.5.54), an alias without "-" drops the advisory; v1.5.48 has neither rule', () => {
    expect(() => insert({ id: 'BAD', affected: [goPkg(ev({ introduced: '0' }))] })).toThrow(OsvAbort);
    expect(insert({ id: 'OK-1', aliases: ['BAD'], affected: [goPkg(ev({ introduced: '0' }))] })).toEqual([]);
    const old = insert({ id: 'BAD', aliases: ['BAD'], affected: [goPkg(ev({ introduced: '0' }))] }, 'test', OSV_RULES['claircore-v1.5.48']);
    expect(old).toHaveLength(1);
    expect(old[0].self).toBeUndefined();
    expect(() => insert({ id: 'G-1', affected: [{ package: { ecosystem: 'Go', name: 'm' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] }, 'go', OSV_RULES['claircore-v1.5.48']))
      .toThrow(/unexpected "ECOSYSTEM" entry/);
  });

  it('decodes like Go: case-insensitive keys, first JSON value only, type errors and bad times refused', () => {
    expect(adv({ ID: 'X-1', Summary: 's' })).toMatchObject({ id: 'X-1', summary: 's' });
    expect(parseFirstJson('{"id":"X-1"} trailing')).toEqual({ id: 'X-1' });
    expect(() => decodeAdvisory(parseFirstJson('{"id": 5}'))).toThrow(/cannot unmarshal number/);
    expect(() => decodeAdvisory(parseFirstJson('{"id": "X-1", "modified": "yesterday"}'))).toThrow(/RFC 3339/);
    expect(adv({ id: 'X-1', published: '2024-01-02T03:04:05.120+00:00' }).published).toBe('2024-01-02T03:04:05.12Z');
  });
});

describe('osv ecosystems.txt', () => {
  it('normalises, dedupes, ignores claircore\'s list, applies the allowlist', () => {
    const text = 'PyPI\nMaven\nDebian:11\nDebian\ncrates.io\nPhoton OS:3.0\nPyPI:x\n';
    expect(selectEcosystems(text, undefined, 'e').map((e) => [e.name, e.raw])).toEqual([['pypi', 'PyPI'], ['maven', 'Maven'], ['crates.io', 'crates.io'], ['photon os', 'Photon OS:3.0']]);
    expect(selectEcosystems(text, ['maven'], 'e').map((e) => e.name)).toEqual(['maven']);
  });
  it('an unknown or ignored ecosystem in osv-ecosystems is a FeedError naming ecosystems.txt and the name', () => {
    expect(() => selectEcosystems('PyPI\nDebian\n', ['nosuch', 'debian'], 'osv/ecosystems.txt')).toThrow(FeedError);
    try {
      selectEcosystems('PyPI\n', ['nosuch'], 'osv/ecosystems.txt');
    } catch (err) {
      expect(err).toMatchObject({ exitCode: 3, place: { feed: 'osv', file: 'osv/ecosystems.txt', record: 'nosuch' } });
    }
  });
});

describe('osv dumps: zip entries read one by one', () => {
  const dump = async (file: string, raw = 'PyPI', now = Date.parse('2025-01-01T00:00:00Z')): Promise<Vulnerability[]> => {
    const out: Vulnerability[] = [];
    for await (const v of dumpRecords(file, { name: raw.toLowerCase(), raw }, V54, now, silentLogger)) out.push(v);
    return out;
  };
  it('reads the PyPI fixture dump', async () => {
    const rs = await dump(path.join(FEEDS, 'osv/PyPI/all.zip'));
    expect(rs.length).toBeGreaterThan(10);
    expect(rs.every((r) => r.updater === 'osv/pypi' && r.repo?.uri === 'https://pypi.org/' && r.range === null)).toBe(true);
    const torch = rs.find((r) => r.name === 'GHSA-4vmg-rw8f-92f9')!;
    expect(torch).toMatchObject({ fixedInVersion: 'lastAffected=2.3.1', package: { name: 'torch', kind: 'binary' }, normalizedSeverity: 'Critical' });
  });
  it('skips advisories withdrawn before the dump was fetched', async () => {
    const names = (await dump(path.join(FEEDS, 'osv/Maven/all.zip'), 'Maven')).map((r) => r.name);
    expect(names).not.toContain('GHSA-57m8-f3v5-hm5m');
    const before = (await dump(path.join(FEEDS, 'osv/Maven/all.zip'), 'Maven', Date.parse('2023-01-01T00:00:00Z'))).map((r) => r.name);
    expect(before).toContain('GHSA-57m8-f3v5-hm5m');
  });
  it('refuses an entry escaping the archive, broken JSON and a truncated zip, naming file and entry', async () => {
    await expect(dump(path.join(LOCAL, 'dotdot.zip'))).rejects.toMatchObject({ exitCode: 3, place: { feed: 'osv', record: 'entry ../GHSA-2jv5-9r88-3w3p.json' } });
    await expect(dump(path.join(LOCAL, 'truncated-json.zip'))).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/malformed JSON/), place: { record: 'entry GHSA-2jv5-9r88-3w3p.json' } });
    await expect(dump(path.join(LOCAL, 'truncated.zip'))).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/zip/) });
  });
});
