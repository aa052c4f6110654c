import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FeedError } from '../../../../src/errors.js';
import { dailyFileName, feedLocation } from '../../../../src/feeds/epss/fetch.js';
import { GoCsvReader } from '../../../../src/feeds/epss/go-csv.js';
import { epss } from '../../../../src/feeds/epss/index.js';
import { epssRecords } from '../../../../src/feeds/epss/parse.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { silentLogger } from '../../../../src/log.js';
import { enrichmentHash } from '../../../../src/model/hash.js';
import type { EnrichmentRecord } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { FIXTURES, SHARED_FEEDS, collect, fetchContext, makeMirror, parseContext } from '../cvss/helpers.js';

const CLAIRCORE_CSV = path.join(FIXTURES, 'epss', 'claircore-data.csv');
const records = (csv: string | Buffer) => [...epssRecords(Buffer.from(csv), 'test.csv', silentLogger)];
const HEAD = '#model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000\ncve,epss,percentile\n';

describe('feeds/epss records (claircore enricher/epss)', () => {
  it("claircore's testdata/data.csv: a record per row; CVE-1999-0005 is the spec's example (0.99030 → 0.9903), md5 65f4047e…", async () => {
    const rs = records(await readFile(CLAIRCORE_CSV));
    expect(rs.length).toBe(29);
    expect(rs[0]).toEqual({
      updater: 'clair.epss', tags: ['CVE-1999-0005'],
      json: '{"modelVersion":"v2023.03.01","date":"2024-10-25T00:00:00+0000","cve":"CVE-1999-0005","epss":0.91963,"percentile":0.9903}',
    });
    expect(enrichmentHash(rs[0])).toBe('65f4047e38baa8391cb1793f207e8504');
    expect(rs.at(-1)!.json).toBe('{"modelVersion":"v2023.03.01","date":"2024-10-25T00:00:00+0000","cve":"CVE-2024-9987","epss":0.00043,"percentile":0.09778}');
  });

  it('numbers as strconv.ParseFloat reads and encoding/json writes them; rows Go refuses (or cannot marshal: NaN, Inf) are skipped', () => {
    const rs = records(`${HEAD}A,5e-7,1\nB,-0,0.0000001\nC,0x1p-2,1_0\nD,nan,1\nE,1e400,1\nF,abc,1\nG,inf,1\nH,.5,1E21\n`);
    expect(rs.map((r) => JSON.parse(r.json) && r.json.replace(/.*"cve":/, ''))).toEqual([
      '"A","epss":5e-7,"percentile":1}', '"B","epss":-0,"percentile":1e-7}', '"C","epss":0.25,"percentile":10}', '"H","epss":0.5,"percentile":1e+21}',
    ]);
  });

  it('CSV as Go reads it: comments and empty lines skipped after the metadata, quoted fields, CRLF', () => {
    const rs = records('#model_version:v1, score_date:d\r\n# a comment\r\n\r\ncve,epss,percentile\r\n"CVE-1",0.1,0.2\r\n#x,y,z\r\n"CVE ""2""",0.3,0.4');
    expect(rs.map((r) => [r.tags[0], r.json])).toEqual([
      ['CVE-1', '{"modelVersion":"v1","date":"d","cve":"CVE-1","epss":0.1,"percentile":0.2}'],
      ['CVE "2"', '{"modelVersion":"v1","date":"d","cve":"CVE \\"2\\"","epss":0.3,"percentile":0.4}'],
    ]);
    // Strings are Go strings: HTML escaping, invalid UTF-8 as \ufffd in the JSON and U+FFFD in the tag.
    const [odd] = records(Buffer.concat([Buffer.from(`${HEAD}<a&b>`), Buffer.from([0xff]), Buffer.from(',0.1,0.2\n')]));
    expect(odd.json).toContain('"cve":"\\u003ca\\u0026b\\u003e\\ufffd"');
    expect(odd.tags).toEqual(['<a&b>\uFFFD']);
  });

  it("fails the file where claircore's FetchEnrichment fails", () => {
    expect(() => records('cve,epss,percentile\n')).toThrow(/metadata/);
    expect(() => records('#model_version:v1\ncve,epss,percentile\n')).toThrow(/line 1.*wrong number of fields/);
    expect(() => records('#model_version:v1,score_date:\ncve,epss,percentile\n')).toThrow(/missing metadata/);
    expect(() => records('#model_version:v1,score_date\ncve,epss,percentile\n')).toThrow(/unexpected metadata field format/);
    expect(() => records('#model_version:v1,score_date:d\n')).toThrow(/header line: EOF/);
    expect(() => records('#model_version:v1,score_date:d\ncve,epss,percentile_\n')).toThrow(/unexpected CSV headers/);
    expect(() => records(`${HEAD}CVE-1,0.1\n`)).toThrow(/line 3.*wrong number of fields/);
    expect(() => records(`${HEAD}CVE-"1",0.1,0.2\n`)).toThrow(/bare "/);
    expect(() => records(`${HEAD}"CVE-1"x,0.1,0.2\n`)).toThrow(/extraneous or missing "/);
    expect(() => records(`${HEAD}"CVE-1,0.1,0.2\n`)).toThrow(/extraneous or missing "/);
    expect(() => records(`${HEAD}CVE\u00001,0.1,0.2\n`)).toThrow(FeedError);
  });

  it('GoCsvReader: a quoted field spans lines, a final \\r before EOF is dropped', () => {
    const r = new GoCsvReader(Buffer.from('"a\nb",c\r'));
    expect(r.read()!.map(String)).toEqual(['a\nb', 'c']);
    expect(r.read()).toBeNull();
  });
});

describe('feeds/epss fetch and parse', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(async () => server?.close());

  it("claircore's URL: yesterday's file (local date) under the base, or the .gz file --url names", () => {
    expect(dailyFileName(new Date(2025, 2, 1, 10))).toBe('epss_scores-2025-02-28.csv.gz');
    expect(feedLocation('https://epss.cyentia.com/', new Date(2024, 0, 1))).toEqual({ url: 'https://epss.cyentia.com/epss_scores-2023-12-31.csv.gz', rel: 'epss_scores-2023-12-31.csv.gz' });
    expect(feedLocation('http://h/x/epss_scores-2023-03-07.csv.gz')).toEqual({ url: 'http://h/x/epss_scores-2023-03-07.csv.gz', rel: 'epss_scores-2023-03-07.csv.gz' });
    expect(() => feedLocation('http://h/x/epss_scores-2025-02-20.csv')).toThrow(ConfigError);
  });

  it('fetches the named file (conditional the second time) and builds clair.epss', async () => {
    const mirror = await makeMirror('epss', []);
    const ctx = fetchContext(mirror, { epss: `${server.url}/epss/epss_scores-2023-03-07.csv.gz` });
    await epss.fetch(ctx);
    await epss.fetch(ctx);
    expect(server.log.filter((r) => r.path.startsWith('/epss/')).map((r) => r.status)).toEqual([200, 304]);
    expect((await readFetchRecord(mirror, 'epss'))?.files.map((f) => f.path)).toEqual(['epss_scores-2023-03-07.csv.gz']);
    const out = await collect<EnrichmentRecord>(epss, parseContext(mirror));
    expect(out.map((o) => [o.type, o.updater])).toEqual([['enrichment', 'clair.epss']]);
    expect(out[0].records.map((r) => r.json)).toEqual([
      '{"modelVersion":"v2023.03.01","date":"2023-03-07T00:00:00+0000","cve":"CVE-2020-5902","epss":0.97567,"percentile":0.99995}',
      '{"modelVersion":"v2023.03.01","date":"2023-03-07T00:00:00+0000","cve":"CVE-2018-19571","epss":0.00113,"percentile":0.43131}',
    ]);
  });

  it('a file that is not gzip (claircore gunzips) is a FeedError naming it', async () => {
    const body = await readFile(path.join(SHARED_FEEDS, 'epss/epss_scores-2025-02-20.csv'));
    const mirror = await makeMirror('epss', [{ part: 'epss', path: 'epss_scores-2025-02-20.csv.gz', body }]);
    await expect(collect(epss, parseContext(mirror))).rejects.toMatchObject({ exitCode: 3, place: { feed: 'epss', file: 'epss/epss_scores-2025-02-20.csv.gz' } });
    const ok = await makeMirror('epss', [{ part: 'epss', path: 'epss_scores-2025-02-20.csv.gz', body: gzipSync(body) }]);
    expect((await collect(epss, parseContext(ok)))[0].records.length).toBe(5);
  });
});
