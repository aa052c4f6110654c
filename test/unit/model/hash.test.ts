import { describe, expect, it } from 'vitest';
import { enrichmentHash, vulnHash, vulnHashParts } from '../../../src/model/hash.js';
import { fnv1a64Signed } from '../../../src/model/fnv.js';
import { goTimeString, issuedColumn } from '../../../src/model/go-time.js';
import { rangeLiteral, versionKind } from '../../../src/model/version.js';
import { vulnRow, VULN_COLUMNS } from '../../../src/model/row.js';
import { EXAMPLE_A, EXAMPLE_A_MD5, EXAMPLE_B, EXAMPLE_B_MD5, EXAMPLE_ENRICHMENT, EXAMPLE_ENRICHMENT_MD5 } from '../../helpers/records.js';

// Expected values: clair-matcher-db.md §2.2/§2.3 worked examples and §9.3 lock-key table.
describe('claircore md5 row hash', () => {
  it('reproduces worked example A (distro record, nil repo, unset CPE)', () => {
    expect(vulnHashParts(EXAMPLE_A).join('')).toHaveLength(272);
    expect(vulnHash(EXAMPLE_A)).toBe(EXAMPLE_A_MD5);
  });
  it('reproduces worked example B (repo and semver range, nil dist)', () => {
    expect(Buffer.byteLength(vulnHashParts(EXAMPLE_B).join(''))).toBe(309);
    expect(vulnHash(EXAMPLE_B)).toBe(EXAMPLE_B_MD5);
  });
  it('hashes a nil dist differently from an empty one', () => {
    const empty = { ...EXAMPLE_B, dist: { did: '', name: '', version: '', versionCodeName: '', versionId: '', arch: '', cpe: '', prettyName: '' } };
    expect(vulnHash(empty)).not.toBe(EXAMPLE_B_MD5);
    expect(vulnHashParts(empty)).toContain('cpe:2.3:*:*:*:*:*:*:*:*:*:*:*');
  });
  it('leaves updater, normalized severity, invert and aliases out of the hash', () => {
    expect(vulnHash({ ...EXAMPLE_B, updater: 'x', normalizedSeverity: 'Low', invert: true, aliases: [] })).toBe(EXAMPLE_B_MD5);
  });
  it('reproduces the enrichment example', () => {
    expect(enrichmentHash(EXAMPLE_ENRICHMENT)).toBe(EXAMPLE_ENRICHMENT_MD5);
  });
});

describe('Go time formatting', () => {
  it.each([
    ['2023-05-01T00:00:00Z', '2023-05-01 00:00:00 +0000 UTC'],
    ['2024-02-03T04:05:06.789Z', '2024-02-03 04:05:06.789 +0000 UTC'],
    ['2024-02-03T04:05:06.780000000Z', '2024-02-03 04:05:06.78 +0000 UTC'],
    ['', '0001-01-01 00:00:00 +0000 UTC'],
  ])('%s → %s', (input, want) => expect(goTimeString(input)).toBe(want));
  it('truncates to microseconds for the column, as pgx does', () => {
    expect(issuedColumn('2024-02-03T04:05:06.123456789Z')).toBe('2024-02-03T04:05:06.123456Z');
    expect(issuedColumn('')).toBe('0001-01-01T00:00:00Z');
  });
  it('rejects non-UTC forms', () => expect(() => goTimeString('2024-02-03T04:05:06+02:00')).toThrow(RangeError));
});

describe('lock keys (FNV-1a 64, signed)', () => {
  it.each([
    ['garbage-collection', '-5176715297593093589'], ['debian/updater', '-7752574547977260918'],
    ['osv/npm', '-3416414160024140587'], ['osv/go', '1935254893517342738'], ['osv/pypi', '8051414710013804716'],
    ['rhel-vex', '1006375230481234880'], ['clair.cvss', '688231189094246539'],
  ])('%s', (key, want) => expect(fnv1a64Signed(key).toString()).toBe(want));
});

describe('row columns', () => {
  it('encodes ranges as quoted int4[] bounds and version_kind only for equal kinds', () => {
    expect(rangeLiteral(EXAMPLE_B.range)).toBe('["{0,1,0,0,0,0,0,0,0,0}","{0,1,4,2,0,0,0,0,0,0}")');
    expect(versionKind(EXAMPLE_B.range)).toBe('semver');
    expect(versionKind({ lower: { kind: 'a', v: [] }, upper: { kind: 'b', v: [] } })).toBeNull();
    expect(rangeLiteral(null)).toBe('empty');
  });
  it('writes every column, empty strings for nil dist/repo, in header order', () => {
    const row = vulnRow(EXAMPLE_B);
    expect(row).toHaveLength(VULN_COLUMNS.length);
    expect(row[VULN_COLUMNS.indexOf('dist_cpe')]).toBe('');
    expect(row[VULN_COLUMNS.indexOf('repo_uri')]).toBe('https://www.npmjs.com/');
    expect(row[VULN_COLUMNS.indexOf('not_vulnerable')]).toBe('f');
  });
});
