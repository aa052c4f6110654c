import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, fetchFeeds } from '../../src/build.js';
import { silentLogger } from '../../src/log.js';
import { loadBundle } from '../../src/load/load.js';
import { createClairDb, query } from '../helpers/db.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';

// The archive was published 2023-11-16 (its name says so); the fixture files' own mtimes are the
// checkout time, so the server is told the real date, as Red Hat's server would send it.
const ARCHIVE = '/rhel-vex/csaf/v2/vex/csaf_vex_2023-11-16.tar.zst';

describe('rhel-vex and rhel-mappings end to end: fetch → build → load → query', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer({ lastModified: { [ARCHIVE]: new Date('2023-11-16T00:00:00Z') } });
  });
  afterAll(() => server?.close());

  it('loads, and the same mirror gives a byte-identical bundle that loads as unchanged', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-e2e-'));
    const mirror = path.join(work, 'mirror');
    const urls = {
      'rhel-vex': `${server.url}/rhel-vex/csaf/v2/vex/`,
      'rhel-mappings': `${server.url}/rhel-metrics/data/metrics/`,
    };
    await fetchFeeds({ mirror, sources: ['rhel-vex', 'rhel-mappings'], urls, log: silentLogger });
    const first = await buildBundle({ mirror, out: path.join(work, 'b1'), sources: ['rhel-vex', 'rhel-mappings'], log: silentLogger });
    const vex = first.updaters.find((u) => u.name === 'rhel-vex')!;
    expect(vex.rows).toBeGreaterThan(0);
    expect(first.mappings.map((m) => m.name)).toEqual(['repository-to-cpe.json']);

    const url = await createClairDb(20);
    const loaded = await loadBundle({ bundle: path.join(work, 'b1'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(loaded.outcome).toBe('loaded');
    const [n] = await query(url, `SELECT count(*)::int AS n FROM vuln v JOIN uo_vuln u ON u.vuln = v.id
      JOIN latest_update_operations l ON l.id = u.uo WHERE l.updater = 'rhel-vex'`);
    expect(n.n).toBe(vex.rows);
    // Deleted upstream (deletions.csv after the archive): no rows.
    const deleted = await query(url, "SELECT DISTINCT name FROM vuln WHERE name IN ('CVE-2024-44943', 'CVE-2024-5480')");
    expect(deleted).toEqual([]);
    // The matcher's view of one CVE: openssl on RHEL 9 (CVE-2023-6237 arrives as a loose document).
    const openssl = await query(url, `SELECT DISTINCT v.name FROM vuln v JOIN uo_vuln u ON u.vuln = v.id
      JOIN latest_update_operations l ON l.id = u.uo AND l.kind = 'vulnerability'
      WHERE v.package_name = 'openssl' AND v.repo_key = 'rhel-cpe-repository' AND v.repo_name LIKE 'cpe:2.3:_:redhat:enterprise_linux:9:%'`);
    expect(openssl.map((r) => r.name)).toContain('CVE-2023-6237');
    const [repo] = await query(url, "SELECT cpes FROM clair_bundle.repository_cpe WHERE repository = 'rhel-9-for-x86_64-baseos-rpms'");
    expect(repo.cpes).toContain('cpe:/o:redhat:enterprise_linux:9::baseos');

    // Same upstream again: conditional requests, the same bundle bytes, an unchanged load.
    const before = server.log.length;
    await fetchFeeds({ mirror, sources: ['rhel-vex', 'rhel-mappings'], urls, log: silentLogger });
    expect(server.log.slice(before).filter((r) => r.status === 304).length).toBeGreaterThan(0);
    const second = await buildBundle({ mirror, out: path.join(work, 'b2'), sources: ['rhel-vex', 'rhel-mappings'], log: silentLogger });
    expect(second.digest).toBe(first.digest);
    for (const f of first.files) {
      expect(await readFile(path.join(work, 'b2', f.path))).toEqual(await readFile(path.join(work, 'b1', f.path)));
    }
    const again = await loadBundle({ bundle: path.join(work, 'b2'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(again.outcome).toBe('unchanged');
  });
});
