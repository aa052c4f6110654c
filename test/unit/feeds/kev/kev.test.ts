import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoJsonSyntaxError, GoJsonTypeError } from '../../../../src/feeds/go-json.js';
import { feedLocation } from '../../../../src/feeds/kev/fetch.js';
import { kev } from '../../../../src/feeds/kev/index.js';
import { KevShapeError, kevRecords } from '../../../../src/feeds/kev/parse.js';
import { enrichmentHash } from '../../../../src/model/hash.js';
import type { EnrichmentRecord } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { FIXTURES, SHARED_FEEDS, collect, fetchContext, makeMirror, parseContext } from '../cvss/helpers.js';

const CLAIRCORE_KEV = path.join(FIXTURES, 'kev', 'claircore-known_exploited_vulnerabilities.json');
const SHARED_KEV = path.join(SHARED_FEEDS, 'cisa-kev/sites/default/files/feeds/known_exploited_vulnerabilities.json');
const records = (doc: string | Buffer) => kevRecords(Buffer.from(doc));

describe('feeds/kev records (claircore enricher/kev)', () => {
  it("claircore's testdata: the entries kev_test.go wants; CVE-2017-3066 is the spec's example, md5 ccc1c1d6…", async () => {
    const rs = records(await readFile(CLAIRCORE_KEV));
    const byCve = Object.fromEntries(rs.map((r) => [r.tags[0], JSON.parse(r.json) as Record<string, string>]));
    // claircore enricher/kev/kev_test.go TestParse `want`.
    expect(byCve['CVE-2017-3066']).toEqual({
      cve: 'CVE-2017-3066', vulnerability_name: 'Adobe ColdFusion Deserialization Vulnerability', catalog_version: '2025.02.24',
      date_added: '2025-02-24',
      short_description: 'Adobe ColdFusion contains a deserialization vulnerability in the Apache BlazeDS library that allows for arbitrary code execution.',
      required_action: 'Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.',
      due_date: '2025-03-17', known_ransomware_campaign_use: 'Unknown',
    });
    expect(byCve['CVE-2021-44228']).toMatchObject({ vulnerability_name: 'Apache Log4j2 Remote Code Execution Vulnerability', date_added: '2021-12-10', due_date: '2021-12-24', known_ransomware_campaign_use: 'Known' });
    const ex = rs.find((r) => r.tags[0] === 'CVE-2017-3066')!;
    expect(ex.json).toBe('{"cve":"CVE-2017-3066","vulnerability_name":"Adobe ColdFusion Deserialization Vulnerability","catalog_version":"2025.02.24","date_added":"2025-02-24","short_description":"Adobe ColdFusion contains a deserialization vulnerability in the Apache BlazeDS library that allows for arbitrary code execution.","required_action":"Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.","due_date":"2025-03-17","known_ransomware_campaign_use":"Unknown"}');
    expect(enrichmentHash(ex)).toBe('ccc1c1d6c9c7e274d74c077faa90a066');
  });

  it('the shared catalog: one record per entry, Go-escaped (& < > as \\u0026 \\u003c \\u003e)', async () => {
    const rs = records(await readFile(SHARED_KEV));
    expect(rs.length).toBe(1404);
    expect(rs.filter((r) => /\\u0026|\\u003c|\\u003e/.test(r.json)).length).toBe(11);
    expect(rs.some((r) => /[<>&]/.test(r.json))).toBe(false);
  });

  it('Go struct decoding: case-insensitive keys, the last duplicate wins, null leaves a field alone, a missing ransomware field is ""', () => {
    const [r] = records('{"CATALOGVERSION":"1","catalogVersion":null,"vulnerabilities":[{"cveid":"CVE-1","cveID":"CVE-2","dueDate":null,"cwes":["CWE-1",null],"notes":"n"}]}');
    expect(r.tags).toEqual(['CVE-2']);
    expect(r.json).toBe('{"cve":"CVE-2","vulnerability_name":"","catalog_version":"1","date_added":"","short_description":"","required_action":"","due_date":"","known_ransomware_campaign_use":""}');
    expect(records('null')).toEqual([]);
    expect(records('{"vulnerabilities":[{"cveID":"A"}],"vulnerabilities":[{"dateAdded":"d"}]}').map((x) => [x.tags, JSON.parse(x.json).date_added])).toEqual([[['A'], 'd']]);
  });

  it('fails where claircore fails: syntax, types, a null entry (nil pointer), a negative count', () => {
    expect(() => records('{"vulnerabilities":[}')).toThrow(GoJsonSyntaxError);
    expect(() => records('')).toThrow(GoJsonSyntaxError);
    expect(() => records('{"count":"3"}')).toThrow(GoJsonTypeError);
    expect(() => records('{"vulnerabilities":[{"cwes":"CWE-1"}]}')).toThrow(GoJsonTypeError);
    expect(() => records('{"vulnerabilities":[{"cveID":1}]}')).toThrow(/cannot unmarshal number into Go value of type string/);
    expect(() => records('{"vulnerabilities":[null]}')).toThrow(KevShapeError);
    expect(() => records('{"count":-1,"vulnerabilities":[]}')).toThrow(/negative/);
  });
});

describe('feeds/kev fetch and parse', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(async () => server?.close());

  it("the file under https://www.cisa.gov/, or the file --url names (claircore's feed_root)", () => {
    expect(feedLocation('https://www.cisa.gov/')).toEqual({ url: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json', rel: 'sites/default/files/feeds/known_exploited_vulnerabilities.json' });
    expect(feedLocation('http://h/kev.json')).toEqual({ url: 'http://h/kev.json', rel: 'kev.json' });
  });

  it('fetches (conditional the second time) and builds clair.kev; a malformed file is a FeedError naming it and the record', async () => {
    const mirror = await makeMirror('kev', []);
    const ctx = fetchContext(mirror, { kev: `${server.url}/cisa-kev/` });
    await kev.fetch(ctx);
    await kev.fetch(ctx);
    expect(server.log.filter((r) => r.path.includes('known_exploited')).map((r) => [r.status, r.conditional])).toEqual([[200, false], [304, true]]);
    const out = await collect<EnrichmentRecord>(kev, parseContext(mirror));
    expect(out.map((o) => [o.type, o.updater, o.records.length])).toEqual([['enrichment', 'clair.kev', 1404]]);

    const bad = await makeMirror('kev', [{ part: 'kev', path: 'kev.json', body: '{"vulnerabilities":[{"cveID":"CVE-1"},{"cveID":["x"]}]}' }]);
    await expect(collect(kev, parseContext(bad))).rejects.toMatchObject({ exitCode: 3, place: { feed: 'kev', file: 'kev/kev.json', record: 'vulnerabilities[1].cveID' } });
  });
});
