import { access, cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, fetchFeeds } from '../../src/build.js';
import { FeedError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { loadBundle } from '../../src/load/load.js';
import { createClairDb, query } from '../helpers/db.js';
import { DEFAULT_FEEDS_DIR, startFeedServer, type FeedServer } from '../helpers/feed-server.js';

/**
 * aws and the enrichers end to end, from test/helpers/feed-server.ts serving the shared fixtures:
 * fetch → build → load into Clair's matcher schema → the rows Clair reads, under claircore's
 * updater names. The shared fixtures hold AL2023 only (AL1/AL2 mirror lists 404), NVD 2021 only
 * (hence cvss-years), and one gzipped EPSS file (named with --url, as claircore's url setting).
 */
const SOURCES = ['aws', 'cvss', 'epss', 'kev'];
const OPTIONS = { 'cvss-years': '2021' };
const KEV_PATH = 'cisa-kev/sites/default/files/feeds/known_exploited_vulnerabilities.json';

/** claircore GetEnrichment (datastore/postgres/enrichment.go), clair-matcher-db.md §5.3. */
const GET_ENRICHMENT = `
with e as materialized (select id, tags, data from enrichment where tags && $2::text[])
select e.tags, e.data from e
join uo_enrich uo on uo.enrich = e.id
join latest_update_operations l on l.id = uo.uo
where l.updater = $1 and l.kind = 'enrichment'
limit 1`;

describe('aws, clair.cvss, clair.epss, clair.kev end to end: fetch → build → load → query', () => {
  let feeds: FeedServer;
  let work: string;
  const urls = () => ({
    'aws.cdn': `${feeds.url}/aws-alas/`,
    'aws.al1': `${feeds.url}/aws-alas/`,
    cvss: `${feeds.url}/nvd/feeds/json/cve/2.0/`,
    epss: `${feeds.url}/epss/epss_scores-2023-03-07.csv.gz`,
    kev: `${feeds.url}/cisa-kev/`,
  });
  beforeAll(async () => {
    feeds = await startFeedServer();
    work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-aws-enrichments-'));
  });
  afterAll(async () => feeds?.close());

  it('loads the expected rows under the expected updater names and kinds; Clair\'s clair.cvss read finds them; the same mirror rebuilds byte-identical', async () => {
    const mirror = path.join(work, 'mirror');
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), options: OPTIONS, log: silentLogger });
    // claircore's aws requests: each release's mirror list; AL2023's mirror's repomd.xml, then its updateinfo.xml.gz.
    expect(feeds.log.filter((r) => r.path.startsWith('/aws-alas/')).map((r) => [r.path.replace(/guids\/\w+/, 'guids/…'), r.status])).toEqual([
      ['/aws-alas/2018.03/updates/x86_64/mirror.list', 404],
      ['/aws-alas/2/core/latest/x86_64/mirror.list', 404],
      ['/aws-alas/al2023/core/mirrors/latest/x86_64/mirror.list', 200],
      ['/aws-alas/al2023/core/guids/…/x86_64/repodata/repomd.xml', 200],
      ['/aws-alas/al2023/core/guids/…/x86_64/repodata/updateinfo.xml.gz', 200],
    ]);

    const first = await buildBundle({ mirror, out: path.join(work, 'b1'), sources: SOURCES, options: OPTIONS, log: silentLogger });
    expect(first.updaters.map((u) => [u.name, u.kind, u.rows, u.file])).toEqual([
      ['aws-AL2023-updater', 'vulnerability', 61, 'vulnerabilities/aws-AL2023-updater.csv'],
      ['clair.cvss', 'enrichment', 3, 'enrichments/clair.cvss.csv'],
      ['clair.epss', 'enrichment', 2, 'enrichments/clair.epss.csv'],
      ['clair.kev', 'enrichment', 1404, 'enrichments/clair.kev.csv'],
    ]);

    const url = await createClairDb(20);
    const loaded = await loadBundle({ bundle: path.join(work, 'b1'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(loaded.outcome).toBe('loaded');
    const ops = await query(url, `SELECT l.updater, l.kind, (SELECT count(*) FROM uo_vuln WHERE uo = l.id)::int AS vulns,
      (SELECT count(*) FROM uo_enrich WHERE uo = l.id)::int AS enrichments FROM latest_update_operations l ORDER BY l.updater`);
    expect(ops).toEqual([
      { updater: 'aws-AL2023-updater', kind: 'vulnerability', vulns: 61, enrichments: 0 },
      { updater: 'clair.cvss', kind: 'enrichment', vulns: 0, enrichments: 3 },
      { updater: 'clair.epss', kind: 'enrichment', vulns: 0, enrichments: 2 },
      { updater: 'clair.kev', kind: 'enrichment', vulns: 0, enrichments: 1404 },
    ]);

    // aws: claircore's row for a source package; Issued is Go's zero time (claircore never decodes issued/@date).
    const [src] = await query(url, `SELECT v.* FROM vuln v JOIN uo_vuln u ON u.vuln = v.id JOIN latest_update_operations l ON l.id = u.uo
      WHERE l.updater = 'aws-AL2023-updater' AND v.package_arch = 'noarch'`);
    expect(src).toMatchObject({
      updater: 'aws-AL2023-updater', package_kind: 'binary', arch_operation: 'equals', dist_id: 'amzn', dist_name: 'Amazon Linux',
      dist_version: '2023', dist_version_id: '2023', dist_pretty_name: 'Amazon Linux 2023', dist_cpe: 'cpe:2.3:o:amazon:amazon_linux:2023:*:*:*:*:*:*:*',
      issued: new Date('0001-01-01T00:00:00Z'), version_kind: null, vulnerable_range: 'empty', repo_name: '',
    });

    // clair.cvss as Clair's matcher reads it (GetEnrichment for a report naming CVE-2021-44228).
    const [cvss] = await query(url, GET_ENRICHMENT, ['clair.cvss', ['CVE-2021-44228']]);
    expect(cvss.tags).toEqual(['CVE-2021-44228']);
    expect(cvss.data).toMatchObject({ version: '3.1', baseScore: 10, baseSeverity: 'CRITICAL', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' });
    expect(await query(url, GET_ENRICHMENT, ['clair.cvss', ['CVE-2016-3197']])).toEqual([]);
    // The hashes claircore v1.5.54 computed for the same 2021 feed (enricher/cvss, run by hand).
    const hashes = await query(url, `SELECT e.tags[1] AS cve, encode(e.hash, 'hex') AS hash, e.updater FROM enrichment e
      WHERE e.updater = 'clair.cvss' ORDER BY 1`);
    expect(hashes).toEqual([
      { cve: 'CVE-2021-23814', hash: 'c46c43e52cc3f81ffce56dd5fb118005', updater: 'clair.cvss' },
      { cve: 'CVE-2021-3002', hash: 'bb1e555a04a1a07769eae75539257edf', updater: 'clair.cvss' },
      { cve: 'CVE-2021-44228', hash: '4fd7ed7193863d64e4f6fc553c6e209d', updater: 'clair.cvss' },
    ]);
    const [epss] = await query(url, GET_ENRICHMENT, ['clair.epss', ['CVE-2020-5902']]);
    expect(epss.data).toEqual({ modelVersion: 'v2023.03.01', date: '2023-03-07T00:00:00+0000', cve: 'CVE-2020-5902', epss: 0.97567, percentile: 0.99995 });
    const [kev] = await query(url, GET_ENRICHMENT, ['clair.kev', ['CVE-2021-44228']]);
    expect(kev.data).toMatchObject({ cve: 'CVE-2021-44228', known_ransomware_campaign_use: 'Known', catalog_version: '2025.08.25' });

    // Same upstream again: conditional requests only, the same bundle bytes, an unchanged load.
    const before = feeds.log.length;
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), options: OPTIONS, log: silentLogger });
    expect(feeds.log.slice(before).filter((r) => r.status === 200)).toEqual([]);
    const second = await buildBundle({ mirror, out: path.join(work, 'b2'), sources: SOURCES, options: OPTIONS, log: silentLogger });
    expect(second.digest).toBe(first.digest);
    for (const f of first.files) expect(await readFile(path.join(work, 'b2', f.path))).toEqual(await readFile(path.join(work, 'b1', f.path)));
    const again = await loadBundle({ bundle: path.join(work, 'b2'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(again.outcome).toBe('unchanged');
  });

  it('the same enrichment loaded twice is stored once: a changed catalog makes a new update operation that re-links the unchanged rows', async () => {
    // Upstream changes: the catalog loses its last entry (a copy of the shared fixture, served by a second server).
    const upstream = path.join(work, 'upstream');
    await mkdir(path.dirname(path.join(upstream, KEV_PATH)), { recursive: true });
    const doc = JSON.parse(await readFile(path.join(DEFAULT_FEEDS_DIR, KEV_PATH), 'utf8')) as { vulnerabilities: unknown[] };
    doc.vulnerabilities.pop();
    await writeFile(path.join(upstream, KEV_PATH), JSON.stringify(doc));
    const changed = await startFeedServer({ root: upstream });
    try {
      const url = await createClairDb(20);
      const load = async (name: string, base: string) => {
        const mirror = path.join(work, `kev-${name}`);
        await fetchFeeds({ mirror, sources: ['kev'], urls: { kev: `${base}/cisa-kev/` }, log: silentLogger });
        await buildBundle({ mirror, out: path.join(work, `kev-bundle-${name}`), sources: ['kev'], log: silentLogger });
        return loadBundle({ bundle: path.join(work, `kev-bundle-${name}`), connection: { connectionString: url }, target: 't', log: silentLogger });
      };
      expect((await load('a', feeds.url)).outcome).toBe('loaded');
      expect((await load('b', changed.url)).outcome).toBe('loaded');
      const [counts] = await query(url, `SELECT (SELECT count(*) FROM enrichment)::int AS rows,
        (SELECT count(*) FROM update_operation WHERE updater = 'clair.kev' AND kind = 'enrichment')::int AS ops,
        (SELECT count(*) FROM uo_enrich)::int AS links,
        (SELECT count(*) FROM uo_enrich u JOIN latest_update_operations l ON l.id = u.uo)::int AS latest,
        (SELECT count(*) FROM (SELECT hash FROM enrichment GROUP BY hash_kind, hash HAVING count(*) > 1) d)::int AS duplicated`);
      expect(counts).toEqual({ rows: 1404, ops: 2, links: 1404 + 1403, latest: 1403, duplicated: 0 });
    } finally {
      await changed.close();
    }
  });

  it('a malformed mirror file fails the build with a FeedError naming it, and writes no bundle', async () => {
    const mirror = path.join(work, 'mirror');
    const broken = path.join(work, 'broken');
    await cp(mirror, broken, { recursive: true });
    const file = path.join(broken, 'kev/sites/default/files/feeds/known_exploited_vulnerabilities.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"cveID": "CVE-2021-44228"', '"cveID": 44228'));
    const out = path.join(work, 'never');
    const err = await buildBundle({ mirror: broken, out, sources: SOURCES, options: OPTIONS, log: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect(err).toMatchObject({ exitCode: 3, place: { feed: 'kev', file: 'kev/sites/default/files/feeds/known_exploited_vulnerabilities.json' } });
    expect((err as Error).message).toMatch(/vulnerabilities\[\d+\]\.cveID/);
    await expect(access(out)).rejects.toThrow();
  });
});
