import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { cvss } from '../../../../src/feeds/cvss/index.js';
import { MetaError, parseMeta } from '../../../../src/feeds/cvss/meta.js';
import { FeedShapeError, feedRecords } from '../../../../src/feeds/cvss/records.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { enrichmentHash } from '../../../../src/model/hash.js';
import type { EnrichmentRecord } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { FIXTURES, SHARED_FEEDS, collect, fetchContext, makeMirror, parseContext } from './helpers.js';

const CLAIRCORE_FEED = path.join(FIXTURES, 'cvss', 'claircore-feed.json');
const NVD_2021 = path.join(SHARED_FEEDS, 'nvd/feeds/json/cve/2.0/nvdcve-2.0-2021.json.gz');
const NVD_2021_META = path.join(SHARED_FEEDS, 'nvd/feeds/json/cve/2.0/nvdcve-2.0-2021.meta');

async function* chunks(text: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const b = Buffer.from(text);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}
const records = (doc: string | Buffer) => feedRecords(chunks(doc));
const summary = (rs: EnrichmentRecord[]) => rs.map((r) => [r.tags, enrichmentHash(r)]);

describe('feeds/cvss records (claircore enricher/cvss feed.go)', () => {
  it("claircore's testdata/feed.json: two records (CVE-2016-3197 is Rejected); CVE-2016-2781 takes its V30 Primary metric, md5 9f2d3df7… (spec §14.1)", async () => {
    const rs = await records(await readFile(CLAIRCORE_FEED));
    expect(rs.map((r) => r.tags[0])).toEqual(['CVE-2016-2781', 'CVE-2016-3674']);
    expect(rs[0]).toEqual({
      updater: 'clair.cvss', tags: ['CVE-2016-2781'],
      json: '{"version":"3.0","vectorString":"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N","baseScore":6.5,"baseSeverity":"MEDIUM","attackVector":"LOCAL","attackComplexity":"LOW","privilegesRequired":"LOW","userInteraction":"NONE","scope":"CHANGED","confidentialityImpact":"NONE","integrityImpact":"HIGH","availabilityImpact":"NONE"}',
    });
    expect(enrichmentHash(rs[0])).toBe('9f2d3df70ecbd1d0c0c8ba7507376459');
    // claircore v1.5.54's FetchEnrichment + ParseEnrichment over the same file (run by hand) gave this hash.
    expect(enrichmentHash(rs[1])).toBe('0c45d6841638d41e1f97be8f91326bda');
  });

  it('the shared 2021 feed excerpt: the records and hashes claircore v1.5.54 wrote for it (baseScore 10.0 kept as written)', async () => {
    const rs = await records(gunzip(await readFile(NVD_2021)));
    expect(summary(rs)).toEqual([
      [['CVE-2021-3002'], 'bb1e555a04a1a07769eae75539257edf'],
      [['CVE-2021-23814'], 'c46c43e52cc3f81ffce56dd5fb118005'],
      [['CVE-2021-44228'], '4fd7ed7193863d64e4f6fc553c6e209d'],
    ]);
    expect(rs[2].json).toContain('"baseScore":10.0,');
  });

  it('hashes the enrichment example of clair-matcher-db.md §2.3 to 2670414c07fe9530644664bced09e5ec', async () => {
    const doc = `{"vulnerabilities":[{"cve":{"id":"CVE-2024-0001","metrics":{"cvssMetricV31":[{"type":"Primary","cvssData":
      {"version":"3.1", "vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore":9.8, "baseSeverity":"CRITICAL"}}]}}}]}`;
    const [r] = await records(doc);
    expect(r.json).toBe('{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"CRITICAL"}');
    expect(enrichmentHash(r)).toBe('2670414c07fe9530644664bced09e5ec');
  });

  const vuln = (cve: string, metrics: string, status = 'Analyzed') => `{"cve":{"id":"${cve}","vulnStatus":"${status}","metrics":${metrics}}}`;
  const feed = (...vulns: string[]) => `{"totalResults":${vulns.length},"vulnerabilities":[${vulns.join(',')}]}`;

  it('metric choice: the first Primary of V31 then V30; v2/v4 never; a Primary without cvssData ends the search', async () => {
    const rs = await records(feed(
      vuln('CVE-1', '{"cvssMetricV31":[{"type":"Secondary","cvssData":{"v":1}}],"cvssMetricV30":[{"type":"Primary","cvssData":{"v":2}}]}'),
      vuln('CVE-2', '{"cvssMetricV2":[{"type":"Primary","cvssData":{"v":3}}],"cvssMetricV40":[{"type":"Primary","cvssData":{"v":4}}]}'),
      vuln('CVE-3', '{"cvssMetricV31":[{"type":"Primary"},{"type":"Primary","cvssData":{"v":5}}]}'),
      vuln('CVE-4', '{"cvssMetricV31":[{"type":"primary","cvssData":{"v":6}}]}'),
      vuln('CVE-5', '{"cvssMetricV31":[{"type":"Primary","cvssData":null}]}'),
      vuln('CVE-6', '{"cvssMetricV31":[{"type":"Primary","cvssData":{"v":7}}]}', 'REJECTED'),
      vuln('CVE-7', '{"cvssMetricV31":[{"type":"Primary","cvssData":{"v":8}}]}', 'Rejected '),
    ));
    expect(rs.map((r) => [r.tags[0], r.json])).toEqual([['CVE-1', '{"v":2}'], ['CVE-5', 'null'], ['CVE-7', '{"v":8}']]);
  });

  it('Go struct decoding: keys match case-insensitively, repeated objects merge, the last duplicate wins, null leaves a field alone', async () => {
    const rs = await records(feed(
      '{"CVE":{"ID":"CVE-A","Metrics":{"CVSSMETRICV31":[{"TYPE":"Primary","CvssData":{"a":"<&>"}}]}}}',
      '{"cve":{"id":"CVE-B","metrics":{"cvssMetricV31":[{"type":"Primary","cvssData":{"x":1}}]}},"cve":{"id":"CVE-C"}}',
      '{"cve":{"id":"CVE-D","id":null,"metrics":{"cvssMetricV31":[{"type":"Primary","cvssData":{"y":1}}],"cvssMetricV31":null}}}',
      '{"cve":{"id":"CVE-E","metrics":{"cvssMetricV31":[{"type":"Secondary","cvssData":{"z":1}}],"cvssMetricV31":[{"type":"Primary"}]}}}',
    ));
    expect(rs.map((r) => [r.tags[0], r.json])).toEqual([['CVE-A', '{"a":"\\u003c\\u0026\\u003e"}'], ['CVE-C', '{"x":1}'], ['CVE-E', '{"z":1}']]);
  });

  it('the document: the last "vulnerabilities" wins (a type error in an earlier one is forgotten), bytes after it are not read', async () => {
    const one = vuln('CVE-1', '{"cvssMetricV31":[{"type":"Primary","cvssData":{}}]}');
    expect((await records(`{"vulnerabilities":[${one}],"vulnerabilities":[]}`)).length).toBe(0);
    expect((await records(`{"vulnerabilities":[{"cve":5}],"vulnerabilities":[${one}]} trailing {{{`)).length).toBe(1);
    expect((await records('{"totalResults":0,"vulnerabilities":null}')).length).toBe(0);
  });

  it('finds value extents whatever the chunking (escaped quotes and backslash runs across chunk boundaries)', async () => {
    const data = '{"a":"q\\\\\\"x\\\\","b":["]}\\"",{"c":"\\u0041"}]}';
    const doc = feed(vuln('CVE-1', `{"cvssMetricV31":[{"type":"Primary","cvssData":${data}}]}`));
    for (let size = 1; size <= 12; size++) {
      const rs = await feedRecords(chunks(doc, size));
      expect(rs.map((r) => r.json), `chunks of ${size}`).toEqual([data]);
    }
    expect(JSON.parse(data)).toEqual({ a: 'q\\"x\\', b: [']}"', { c: 'A' }] });
  });

  it('refuses what makes claircore fail: no vulnerabilities, wrong types, a negative totalResults, bad syntax, \\u0000 in cvssData', async () => {
    await expect(records('{"totalResults":0}')).rejects.toThrow(FeedShapeError);
    await expect(records('null')).rejects.toThrow(FeedShapeError);
    await expect(records('[]')).rejects.toThrow(FeedShapeError);
    await expect(records('{"totalResults":"3","vulnerabilities":[]}')).rejects.toThrow(/cannot unmarshal string into Go value of type int/);
    await expect(records('{"totalResults":1.0,"vulnerabilities":[]}')).rejects.toThrow(FeedShapeError);
    await expect(records('{"totalResults":-1,"vulnerabilities":[]}')).rejects.toThrow(/negative/);
    await expect(records('{"vulnerabilities":{}}')).rejects.toThrow(FeedShapeError);
    await expect(records(feed('{"cve":{"id":7}}'))).rejects.toThrow(/cannot unmarshal number into Go value of type string \(field cve.id\)/);
    await expect(records(feed('{"cve":{"metrics":{"cvssMetricV30":{}}}}'))).rejects.toThrow(/\[\]cvss.metric/);
    await expect(records(feed(vuln('CVE-1', '{"cvssMetricV31":[{"type":"Primary","cvssData":{"a":"\\u0000"}}]}')))).rejects.toThrow(/jsonb/);
    await expect(records('{"vulnerabilities":[{"cve":{}},]}')).rejects.toThrow(/invalid character/);
    await expect(records('{"vulnerabilities":[{"cve":{}}]')).rejects.toThrow(/unexpected end of JSON input/);
  });
});

describe('feeds/cvss .meta (claircore enricher/cvss/metafile.go)', () => {
  it("reads claircore's testdata/feed.meta and the shared 2021 meta", async () => {
    expect(parseMeta(await readFile(path.join(FIXTURES, 'cvss', 'claircore-feed.meta'), 'utf8')).sha256).toBe('D165E29D8D911F3F1E0919A5C1E8C423B14AF1C38F57847DD0A8CC9DBD027618');
    expect(parseMeta(await readFile(NVD_2021_META, 'utf8')).lastModified).toBe('2025-06-25T03:01:03-00:00');
  });

  it('fails where claircore fails (bad time or size on a complete line) and ignores a last line without newline', () => {
    expect(() => parseMeta('lastModifiedDate:2025-02-30T00:00:00Z\n')).toThrow(MetaError);
    expect(() => parseMeta('size:12a\r\n')).toThrow(MetaError);
    expect(parseMeta('sha256:abc\nsize:oops').sha256).toBe('ABC');
    expect(parseMeta('no colon here\n').sha256).toBe('');
  });
});

function gunzip(b: Buffer): Buffer {
  return gunzipSync(b);
}

describe('feeds/cvss fetch and parse', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(async () => server?.close());

  it('fetches .meta and .json.gz per year (conditional the second time) and builds clair.cvss from them', async () => {
    const mirror = await makeMirror('cvss', []);
    const ctx = fetchContext(mirror, { cvss: `${server.url}/nvd/feeds/json/cve/2.0/` }, { 'cvss-years': '2021' });
    await cvss.fetch(ctx);
    const rec = await readFetchRecord(mirror, 'cvss');
    expect(rec?.files.map((f) => f.path)).toEqual(['nvdcve-2.0-2021.json.gz', 'nvdcve-2.0-2021.meta']);
    const before = server.log.length;
    await cvss.fetch(ctx);
    expect(server.log.slice(before).map((r) => r.status)).toEqual([304, 304]);
    const out = await collect<EnrichmentRecord>(cvss, parseContext(mirror));
    expect(out.map((o) => [o.type, o.updater, o.records.length])).toEqual([['enrichment', 'clair.cvss', 3]]);
  });

  it('a year upstream lacks fails the fetch (claircore fails its run), naming the file and the years option', async () => {
    const mirror = await makeMirror('cvss', []);
    const err = await cvss.fetch(fetchContext(mirror, { cvss: `${server.url}/nvd/feeds/json/cve/2.0/` }, { 'cvss-years': '2020-2021' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect(err).toMatchObject({ exitCode: 3, place: { feed: 'cvss', file: 'cvss/nvdcve-2.0-2020.meta' }, hint: expect.stringMatching(/cvss-years/) });
  });

  it('malformed mirror files are FeedErrors naming the file and record', async () => {
    const meta = await readFile(NVD_2021_META);
    const bad = gzipSync(Buffer.from('{"vulnerabilities":[{"cve":{"id":"CVE-9"}},{"cve":{"id":false}}]}'));
    const mirror = await makeMirror('cvss', [{ part: 'cvss', path: 'nvdcve-2.0-2021.meta', body: meta }, { part: 'cvss', path: 'nvdcve-2.0-2021.json.gz', body: bad }]);
    await expect(collect(cvss, parseContext(mirror))).rejects.toMatchObject({ place: { feed: 'cvss', file: 'cvss/nvdcve-2.0-2021.json.gz', record: 'vulnerabilities[1]' } });
    const cut = (await readFile(NVD_2021)).subarray(0, 5000);
    const truncated = await makeMirror('cvss', [{ part: 'cvss', path: 'nvdcve-2.0-2021.meta', body: meta }, { part: 'cvss', path: 'nvdcve-2.0-2021.json.gz', body: cut }]);
    await expect(collect(cvss, parseContext(truncated))).rejects.toThrow(/cvss\/nvdcve-2.0-2021.json.gz: corrupt or truncated gzip/);
    const badMeta = await makeMirror('cvss', [{ part: 'cvss', path: 'nvdcve-2.0-2021.meta', body: 'gzSize:x\n' }, { part: 'cvss', path: 'nvdcve-2.0-2021.json.gz', body: await readFile(NVD_2021) }]);
    await expect(collect(cvss, parseContext(badMeta))).rejects.toMatchObject({ place: { file: 'cvss/nvdcve-2.0-2021.meta', record: 'line 1' } });
    await expect(collect(cvss, parseContext(mirror, { 'cvss-years': '2020' }))).rejects.toThrow(/year 2020 was not fetched/);
  });
});
