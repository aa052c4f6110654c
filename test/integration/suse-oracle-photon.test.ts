import { access, cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, fetchFeeds } from '../../src/build.js';
import { FeedError } from '../../src/errors.js';
import { loadBundle } from '../../src/load/load.js';
import { silentLogger } from '../../src/log.js';
import { createClairDb, query } from '../helpers/db.js';
import { DEFAULT_FEEDS_DIR, startFeedServer, type FeedServer } from '../helpers/feed-server.js';
import { readGolden } from '../unit/feeds/oval/claircore-golden.js';
import { startDirectoryProxy } from '../unit/feeds/suse/directory-proxy.js';

// The shared fixtures hold no per-year ELSA file (only the com.oracle.elsa-all excerpt, which no
// registered claircore updater reads); the yearly 2018 file (claircore's own oracle testdata) is
// served at its upstream name by a second server (test/fixtures/oracle/README.md).
const ORACLE_LOCAL = path.resolve(import.meta.dirname, '../fixtures/oracle');
const PHOTON_GOLDEN = path.resolve(import.meta.dirname, '../fixtures/photon/claircore-phsa-photon3.tsv.gz');
const SOURCES = ['suse', 'oracle', 'photon'];

/** Distinct golden lines = distinct rows claircore stores (every hashed field is a column of the golden files). */
const distinct = (file: string) => new Set(readGolden(file).lines.map((l) => l.split('\t').slice(1).join('\t'))).size;

describe('suse, oracle and photon end to end: fetch → build → load → query', () => {
  let feeds: FeedServer;
  let proxy: { url: string; close(): Promise<void> };
  let oracleUpstream: FeedServer;
  beforeAll(async () => {
    feeds = await startFeedServer();
    proxy = await startDirectoryProxy(feeds.url);
    const root = await mkdtemp(path.join(os.tmpdir(), 'oracle-upstream-'));
    await mkdir(path.join(root, 'security/oval'), { recursive: true });
    await symlink(path.join(ORACLE_LOCAL, 'com.oracle.elsa-2018.xml.bz2'), path.join(root, 'security/oval/com.oracle.elsa-2018.xml.bz2'));
    oracleUpstream = await startFeedServer({ root });
  });
  afterAll(async () => {
    await proxy?.close();
    await feeds?.close();
    await oracleUpstream?.close();
  });

  const urls = () => ({
    suse: `${proxy.url}/suse-oval/pub/projects/security/oval/`,
    oracle: `${oracleUpstream.url}/security/oval/`,
    photon: `${feeds.url}/photon-oval/photon/photon_oval_definitions/`,
  });

  it('loads the expected records under claircore\'s updater names; the same mirror rebuilds byte-identical', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-suse-oracle-photon-'));
    const mirror = path.join(work, 'mirror');
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), log: silentLogger });
    // claircore's requests: the SUSE directory page and the one file it links; every Photon release; every ELSA year.
    expect(feeds.log.filter((r) => r.path.startsWith('/suse-oval/')).map((r) => [r.path, r.status])).toEqual([
      ['/suse-oval/pub/projects/security/oval/index.html', 200], ['/suse-oval/pub/projects/security/oval/suse.linux.enterprise.server.15.xml.gz', 200],
    ]);
    expect(feeds.log.filter((r) => r.path.startsWith('/photon-oval/')).map((r) => `${r.path.split('/').pop()} ${r.status}`).sort()).toEqual([
      'com.vmware.phsa-photon1.xml 404', 'com.vmware.phsa-photon2.xml 404', 'com.vmware.phsa-photon3.xml 200', 'com.vmware.phsa-photon4.xml 404', 'com.vmware.phsa-photon5.xml 404',
    ]);
    expect(oracleUpstream.log).toHaveLength(new Date().getFullYear() - 2006);

    const first = await buildBundle({ mirror, out: path.join(work, 'b1'), sources: SOURCES, log: silentLogger });
    const rows = Object.fromEntries(first.updaters.map((u) => [u.name, u.rows]));
    expect(rows).toEqual({
      'suse-updater-suse.linux.enterprise.server.15': 0,
      'oracle-2018-updater': distinct(path.join(ORACLE_LOCAL, 'claircore-elsa-2018.tsv.gz')),
      'photon-updater-3.0': distinct(PHOTON_GOLDEN),
    });

    const url = await createClairDb(20);
    const loaded = await loadBundle({ bundle: path.join(work, 'b1'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(loaded.outcome).toBe('loaded');
    const latest = (updater: string, where = 'true') => query(url, `SELECT v.* FROM vuln v JOIN uo_vuln u ON u.vuln = v.id
      JOIN latest_update_operations l ON l.id = u.uo WHERE l.updater = $1 AND ${where} ORDER BY v.name, v.package_name, v.fixed_in_version`, [updater]);

    // Photon (spec §12 example): one row per package criterion, issued at UTC midnight.
    const sqlite = await latest('photon-updater-3.0', "v.name LIKE 'PHSA-2020:00001 %'");
    expect(sqlite.map((r) => [r.package_name, r.fixed_in_version, r.normalized_severity, r.severity, r.dist_version, r.dist_pretty_name])).toEqual([
      ['sqlite', '0:3.27.2-5.ph3', 'High', 'Important', '3.0', 'VMware Photon OS/Linux'],
      ['sqlite-devel', '0:3.27.2-5.ph3', 'High', 'Important', '3.0', 'VMware Photon OS/Linux'],
      ['sqlite-libs', '0:3.27.2-5.ph3', 'High', 'Important', '3.0', 'VMware Photon OS/Linux'],
    ]);
    expect(new Date(sqlite[0].issued as string).toISOString()).toBe('2019-10-23T00:00:00.000Z');
    expect(sqlite[0]).toMatchObject({ package_kind: 'binary', dist_id: 'photon', arch_operation: 'invalid', vulnerable_range: 'empty' });

    // Oracle: the title verbatim (with its newlines), one row per platform Dist; ksplice-only errata are dropped.
    const kernel = await latest('oracle-2018-updater', "v.name LIKE '%ELSA-2018-0007:%' AND v.package_name = 'kernel'");
    expect(kernel.map((r) => [r.name, r.fixed_in_version, r.severity, r.normalized_severity, r.dist_version, r.dist_version_code_name])).toEqual([
      ['\nELSA-2018-0007:  kernel security update (IMPORTANT)\n', '0:3.10.0-693.11.6.el7', 'IMPORTANT', 'High', '7', 'Oracle Linux 7'],
    ]);
    expect(await latest('oracle-2018-updater', "v.name LIKE '%ELSA-2018-4077:%'")).toEqual([]);

    // SUSE: the shared excerpt keeps its states outside <states>, so claircore (and we) make no rows, only the update operation.
    const ops = await query(url, `SELECT updater FROM latest_update_operations WHERE updater LIKE 'suse-%' OR updater LIKE 'photon-%' OR updater LIKE 'oracle-%' ORDER BY 1`);
    expect(ops.map((r) => r.updater)).toEqual(['oracle-2018-updater', 'photon-updater-3.0', 'suse-updater-suse.linux.enterprise.server.15']);

    // Same upstream again: conditional requests, the same bundle bytes, an unchanged load.
    const before = feeds.log.length;
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), log: silentLogger });
    expect(feeds.log.slice(before).filter((r) => r.status === 304).map((r) => r.path.split('/').pop()).sort())
      .toEqual(['com.vmware.phsa-photon3.xml', 'index.html', 'suse.linux.enterprise.server.15.xml.gz']);
    const second = await buildBundle({ mirror, out: path.join(work, 'b2'), sources: SOURCES, log: silentLogger });
    expect(second.digest).toBe(first.digest);
    for (const f of first.files) {
      // Buffer.equals: vitest's toEqual walks a multi-megabyte Buffer key by key.
      expect((await readFile(path.join(work, 'b2', f.path))).equals(await readFile(path.join(work, 'b1', f.path))), f.path).toBe(true);
    }
    const again = await loadBundle({ bundle: path.join(work, 'b2'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(again.outcome).toBe('unchanged');
  });

  it('a malformed mirror file fails the build with a FeedError naming it, and writes no bundle', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-suse-oracle-photon-sad-'));
    const mirror = path.join(work, 'mirror');
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), log: silentLogger });
    const out = path.join(work, 'never');

    const broken = path.join(work, 'broken');
    await cp(mirror, broken, { recursive: true });
    const photon3 = path.join(broken, 'photon/com.vmware.phsa-photon3.xml');
    await writeFile(photon3, (await readFile(photon3, 'utf8')).replace('</title>', '</titel>'));
    const err = await buildBundle({ mirror: broken, out, sources: ['suse', 'photon'], log: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect(err).toMatchObject({ exitCode: 3, place: { feed: 'photon', file: 'photon/com.vmware.phsa-photon3.xml', record: expect.stringMatching(/^line 12, column \d+$/) } });
    await expect(access(out)).rejects.toThrow();

    // A gzip stream cut short (the SUSE file) is refused the same way.
    const cut = path.join(work, 'cut');
    await cp(mirror, cut, { recursive: true });
    const gz = await readFile(path.join(DEFAULT_FEEDS_DIR, 'suse-oval/pub/projects/security/oval/suse.linux.enterprise.server.15.xml.gz'));
    await writeFile(path.join(cut, 'suse/suse.linux.enterprise.server.15.xml.gz'), gz.subarray(0, gz.length - 100));
    const err2 = await buildBundle({ mirror: cut, out, sources: ['suse'], log: silentLogger }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ exitCode: 3, place: { feed: 'suse', file: 'suse/suse.linux.enterprise.server.15.xml.gz' } });
    expect((err2 as Error).message).toMatch(/corrupt or truncated gzip stream/);
    await expect(access(out)).rejects.toThrow();

    // And a bzip2 stream cut short (an ELSA year).
    const elsa = path.join(cut, 'oracle/com.oracle.elsa-2018.xml.bz2');
    await writeFile(elsa, (await readFile(elsa)).subarray(0, 100_000));
    const err3 = await buildBundle({ mirror: cut, out, sources: ['oracle'], log: silentLogger }).catch((e: unknown) => e);
    expect(err3).toMatchObject({ exitCode: 3, place: { feed: 'oracle', file: 'oracle/com.oracle.elsa-2018.xml.bz2' } });
    await expect(access(out)).rejects.toThrow();
  });
});
