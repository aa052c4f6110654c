import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, FeedError } from '../../../../src/errors.js';
import { alpine } from '../../../../src/feeds/alpine/index.js';
import { vulnHash } from '../../../../src/model/hash.js';
import type { Distribution, Vulnerability } from '../../../../src/model/vulnerability.js';
import { FIXTURES, SHARED_FEEDS, byName, collect, makeMirror, parseContext } from './helpers.js';

const SECDB = path.join(SHARED_FEEDS, 'alpine-secdb');
const fixture = (name: string) => path.join(FIXTURES, 'alpine', name);

/** claircore alpine/parser_test.go: `dist310 = stableRelease{3, 10}.Distribution()`. */
const DIST_310: Distribution = {
  did: 'alpine', name: 'Alpine Linux', version: '', versionCodeName: '', versionId: '3.10', arch: '', cpe: '', prettyName: 'Alpine Linux v3.10',
};

/** claircore alpine/parser_test.go `v3_10CommunityTruncatedVulns` (every other field is Go's zero value). */
function expected(name: string, fixedInVersion: string, pkg: string): Vulnerability {
  return {
    updater: 'alpine-community-v3.10-updater', name, description: '', issued: '', links: `https://security.alpinelinux.org/vuln/${name}`,
    severity: '', normalizedSeverity: 'Unknown', package: { name: pkg, version: '', module: '', arch: '', kind: 'source' },
    dist: DIST_310, repo: null, fixedInVersion, archOperation: 'invalid', range: null,
  };
}
const CLAIRCORE_V3_10_COMMUNITY = [
  expected('CVE-2018-20187', '2.9.0-r0', 'botan'),
  expected('CVE-2018-12435', '2.7.0-r0', 'botan'),
  expected('CVE-2018-9860', '2.6.0-r0', 'botan'),
  expected('CVE-2018-9127', '2.5.0-r0', 'botan'),
  expected('CVE-2019-9929', '3.12.2-r0', 'cfengine'),
  expected('CVE-2017-6949', '4.12.0-r3', 'chicken'),
  expected('CVE-2017-9334', '4.12.0-r2', 'chicken'),
  expected('CVE-2016-6830', '4.11.1-r0', 'chicken'),
  expected('CVE-2016-6831', '4.11.1-r0', 'chicken'),
];

async function parseOne(src: string, rel = 'v3.10/community.json') {
  const mirror = await makeMirror('alpine', [{ part: 'alpine', path: rel, src }]);
  return collect(alpine, parseContext(mirror));
}

describe('feeds/alpine parse (claircore alpine/parser.go)', () => {
  it("yields claircore's TestParser records for its v3.10 community test document", async () => {
    const out = await parseOne(fixture('claircore-v3.10-community.json'));
    expect(out.map((o) => o.updater)).toEqual(['alpine-community-v3.10-updater']);
    expect([...out[0].records].sort(byName)).toEqual([...CLAIRCORE_V3_10_COMMUNITY].sort(byName));
  });

  it("hashes the spec's worked example (CVE-2018-20187, botan, v3.10 community) to 051a09c8e71d54d4944998a5715946b7", async () => {
    const [{ records }] = await parseOne(fixture('claircore-v3.10-community.json'));
    const botan = records.find((r) => r.name === 'CVE-2018-20187')!;
    expect(vulnHash(botan)).toBe('051a09c8e71d54d4944998a5715946b7');
  });

  it('stores as many distinct rows for edge as claircore v1.5.54 did from the same files (conformance oracle: 2538 main, 5459 community)', async () => {
    const mirror = await makeMirror('alpine', [
      { part: 'alpine', path: 'edge/community.json', src: path.join(SECDB, 'edge/community.json') },
      { part: 'alpine', path: 'edge/main.json', src: path.join(SECDB, 'edge/main.json') },
    ]);
    const out = await collect(alpine, parseContext(mirror));
    expect(out.map((o) => o.updater)).toEqual(['alpine-main-edge-updater', 'alpine-community-edge-updater']);
    expect(out.map((o) => new Set(o.records.map(vulnHash)).size)).toEqual([2538, 5459]);
    expect(out[0].records[0].dist).toEqual({
      did: 'alpine', name: 'Alpine Linux', version: '', versionCodeName: '', versionId: 'edge', arch: '', cpe: '', prettyName: 'Alpine Linux edge',
    });
  });

  it('emits one updater per recorded file, release order, main before community; an empty secdb is an updater with no rows', async () => {
    const files = ['v3.21/main.json', 'edge/community.json', 'v3.3/community.json', 'v3.3/main.json', 'v3.20/community.json']
      .map((p) => ({ part: 'alpine', path: p, src: path.join(SECDB, p) }));
    const mirror = await makeMirror('alpine', files, [{ part: 'alpine', path: 'v3.21/community.json' }]);
    const out = await collect(alpine, parseContext(mirror));
    expect(out.map((o) => [o.updater, o.records.length > 0])).toEqual([
      ['alpine-main-v3.3-updater', true],
      ['alpine-community-v3.3-updater', false],
      ['alpine-community-v3.20-updater', true],
      ['alpine-main-v3.21-updater', true],
      ['alpine-community-edge-updater', true],
    ]);
    // --option alpine-releases narrows the set at build time; a release never fetched is an error.
    const narrowed = await collect(alpine, parseContext(mirror, { 'alpine-releases': 'v3.21,3.3' }));
    expect(narrowed.map((o) => o.updater)).toEqual(['alpine-main-v3.3-updater', 'alpine-community-v3.3-updater', 'alpine-main-v3.21-updater']);
    await expect(collect(alpine, parseContext(mirror, { 'alpine-releases': 'v3.19' })))
      .rejects.toMatchObject({ code: 'FEED_INVALID', message: expect.stringContaining('release v3.19 was not fetched') });
    await expect(collect(alpine, parseContext(mirror, { 'alpine-releases': 'three' }))).rejects.toBeInstanceOf(ConfigError);
  });

  it("follows encoding/json: keys match fields case-insensitively, unknown keys and nulls are ignored, ids are verbatim", async () => {
    const dir = await makeMirror('alpine', []);
    const src = path.join(dir, 'doc.json');
    await writeFile(src, JSON.stringify({
      Distroversion: 'v3.20', archs: [1, 2], PACKAGES: [
        null,
        { pkg: null },
        { Pkg: { NAME: 'zlib', SecFixes: { '0': ['CVE-2022-37434 (fix for x)', null], '1.3-r0': null } } },
        { pkg: { name: 'nosec' } },
      ],
    }));
    const [{ records }] = await parseOne(src, 'v3.20/main.json');
    expect(records.map((r) => [r.package?.name, r.name, r.fixedInVersion, r.links])).toEqual([
      ['zlib', 'CVE-2022-37434 (fix for x)', '0', 'https://security.alpinelinux.org/vuln/CVE-2022-37434 (fix for x)'],
      ['zlib', '', '0', 'https://security.alpinelinux.org/vuln/'],
    ]);
  });
});

describe('feeds/alpine parse: malformed input is a FeedError naming file and record', () => {
  const cases: [string, string, RegExp, string][] = [
    ['truncated-v3.20-main.json', 'v3.20/main.json', /malformed JSON: unexpected end of JSON input at byte 16384/, 'after packages['],
    ['packages-object-v3.3-community.json', 'v3.3/community.json', /cannot unmarshal object into packages/, 'packages'],
    ['name-number-v3.3-main.json', 'v3.3/main.json', /cannot unmarshal number into pkg.name/, 'packages[0]'],
  ];
  it.each(cases)('%s', async (name, rel, message, record) => {
    const err = await parseOne(fixture(name), rel).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    const fe = err as FeedError;
    expect(fe.exitCode).toBe(3);
    expect(fe.message).toMatch(message);
    expect(fe.place).toMatchObject({ feed: 'alpine', file: `alpine/${rel}` });
    expect(fe.place.record).toContain(record);
    expect(fe.message).toContain(`file alpine/${rel}, record ${fe.place.record}`);
  });

  it('a top-level array, a missing file, no fetch record', async () => {
    const dir = await makeMirror('alpine', []);
    const src = path.join(dir, 'array.json');
    await writeFile(src, '[]');
    await expect(parseOne(src, 'edge/main.json')).rejects.toMatchObject({ place: { file: 'alpine/edge/main.json', record: 'document' } });
    const mirror = await makeMirror('alpine', [{ part: 'alpine', path: 'edge/main.json', src }]);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(mirror, 'alpine', 'edge', 'main.json'));
    await expect(collect(alpine, parseContext(mirror))).rejects.toThrow(/missing from the mirror/);
    await expect(collect(alpine, parseContext(path.join(dir, 'nowhere')))).rejects.toThrow(/no fetch record/);
  });
});
