import { copyFile, cp, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, fetchFeeds } from '../../src/build.js';
import { FeedError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { loadBundle } from '../../src/load/load.js';
import { vulnHash } from '../../src/model/hash.js';
import type { Vulnerability } from '../../src/model/vulnerability.js';
import { createClairDb, query } from '../helpers/db.js';
import { DEFAULT_FEEDS_DIR, startFeedServer, type FeedServer } from '../helpers/feed-server.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const SOURCES = ['alpine', 'debian'];
/**
 * The fixture mirror has no directory listings (claircore's alpine discovery and debian dists/
 * listing need them), so the releases are named with the feed options.
 */
const OPTIONS = { 'alpine-releases': 'v3.3,v3.18,v3.19,v3.20,v3.21,edge', 'debian-releases': 'bookworm' };
const ALPINE_UPDATERS = ['v3.3', 'v3.18', 'v3.19', 'v3.20', 'v3.21', 'edge']
  .flatMap((r) => ['main', 'community'].map((repo) => `alpine-${repo}-${r}-updater`));

/** Rows by spec clair-updaters.md §6 from `shared/alpine-secdb/v3.20/main.json` (package zlib and busybox). */
function alpineRow(pkg: string, id: string, fixed: string): Vulnerability {
  return {
    updater: 'alpine-main-v3.20-updater', name: id, description: '', issued: '', links: `https://security.alpinelinux.org/vuln/${id}`,
    severity: '', normalizedSeverity: 'Unknown', package: { name: pkg, version: '', module: '', arch: '', kind: 'source' },
    dist: { did: 'alpine', name: 'Alpine Linux', version: '', versionCodeName: '', versionId: '3.20', arch: '', cpe: '', prettyName: 'Alpine Linux v3.20' },
    repo: null, fixedInVersion: fixed, archOperation: 'invalid', range: null,
  };
}

const LATEST = `FROM vuln v JOIN uo_vuln u ON u.vuln = v.id JOIN latest_update_operations l ON l.id = u.uo AND l.kind = 'vulnerability'`;

describe('alpine and debian end to end: fetch → build → load → query', () => {
  let shared: FeedServer;
  let derived: FeedServer;
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-alpine-debian-'));
    shared = await startFeedServer();
    // The shared tracker excerpt holds one member claircore cannot decode (see the sad-path test
    // below); the happy path serves the same files with that member cut out.
    const root = path.join(work, 'root');
    await cp(path.join(DEFAULT_FEEDS_DIR, 'deb.debian.org'), path.join(root, 'deb.debian.org'), { recursive: true });
    await mkdir(path.join(root, 'debian-security-tracker', 'tracker', 'data'), { recursive: true });
    await copyFile(path.join(FIXTURES, 'debian', 'tracker-without-chromium-browser.json'), path.join(root, 'debian-security-tracker', 'tracker', 'data', 'json'));
    derived = await startFeedServer({ root });
  });
  afterAll(async () => {
    await shared?.close();
    await derived?.close();
  });

  const urls = () => ({
    alpine: `${shared.url}/alpine-secdb/`,
    'debian.tracker': `${derived.url}/debian-security-tracker/`,
    'debian.dists': `${derived.url}/deb.debian.org/`,
  });

  it('loads the expected records under the expected updater names; the same mirror rebuilds byte-identical and loads as unchanged', async () => {
    const mirror = path.join(work, 'mirror');
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), options: OPTIONS, log: silentLogger });
    const first = await buildBundle({ mirror, out: path.join(work, 'b1'), sources: SOURCES, log: silentLogger });
    expect(first.updaters.map((u) => u.name).sort()).toEqual([...ALPINE_UPDATERS, 'debian/updater'].sort());
    // claircore stored these distinct-row counts for the edge files (conformance oracle, v1.5.54).
    expect(first.updaters.find((u) => u.name === 'alpine-main-edge-updater')!.rows).toBe(2538);
    expect(first.updaters.find((u) => u.name === 'alpine-community-edge-updater')!.rows).toBe(5459);
    expect(first.updaters.find((u) => u.name === 'alpine-community-v3.3-updater')!.rows).toBe(0);
    expect(first.updaters.find((u) => u.name === 'debian/updater')!.rows).toBe(2);

    const url = await createClairDb(20);
    const loaded = await loadBundle({ bundle: path.join(work, 'b1'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(loaded.outcome).toBe('loaded');
    const counts = await query<{ updater: string; n: number }>(url, `SELECT l.updater, count(*)::int AS n ${LATEST} GROUP BY 1`);
    for (const u of first.updaters) expect(counts.find((c) => c.updater === u.name)?.n ?? 0, u.name).toBe(u.rows);

    const zlib = alpineRow('zlib', 'CVE-2022-37434', '1.2.12-r2');
    const rows = await query(url, `SELECT encode(v.hash, 'hex') AS hash, v.updater, v.name, v.links, v.severity, v.normalized_severity,
        v.package_name, v.package_kind, v.dist_id, v.dist_name, v.dist_version, v.dist_version_id, v.dist_pretty_name, v.dist_cpe,
        v.repo_name, v.fixed_in_version, v.arch_operation, v.vulnerable_range::text AS range, v.issued
      ${LATEST} WHERE l.updater = 'alpine-main-v3.20-updater' AND v.package_name = 'zlib' AND v.name = 'CVE-2022-37434'`);
    expect(rows).toEqual([{
      hash: vulnHash(zlib), updater: 'alpine-main-v3.20-updater', name: 'CVE-2022-37434', links: zlib.links, severity: '', normalized_severity: 'Unknown',
      package_name: 'zlib', package_kind: 'source', dist_id: 'alpine', dist_name: 'Alpine Linux', dist_version: '', dist_version_id: '3.20',
      dist_pretty_name: 'Alpine Linux v3.20', dist_cpe: '', repo_name: '', fixed_in_version: '1.2.12-r2', arch_operation: 'invalid',
      range: 'empty', issued: new Date('0001-01-01T00:00:00Z'),
    }]);
    // Non-CVE ids and "0" fixed-in versions are kept verbatim.
    const busybox = await query(url, `SELECT v.name, v.fixed_in_version ${LATEST} WHERE l.updater = 'alpine-main-v3.20-updater'
      AND v.package_name = 'busybox' AND v.name IN ('ALPINE-13661', 'CVE-2021-42373') ORDER BY 1`);
    expect(busybox).toEqual([{ name: 'ALPINE-13661', fixed_in_version: '1.35.0-r7' }, { name: 'CVE-2021-42373', fixed_in_version: '0' }]);

    const deb = await query(url, `SELECT v.package_name, v.name, v.severity, v.normalized_severity, v.fixed_in_version, v.links,
        v.dist_id, v.dist_name, v.dist_version, v.dist_version_code_name, v.dist_version_id, v.dist_pretty_name
      ${LATEST} WHERE l.updater = 'debian/updater' ORDER BY 1`);
    const bookworm = { dist_id: 'debian', dist_name: 'Debian GNU/Linux', dist_version: '12 (bookworm)', dist_version_code_name: 'bookworm', dist_version_id: '12', dist_pretty_name: 'Debian GNU/Linux 12 (bookworm)' };
    expect(deb).toEqual([
      { package_name: 'chromium', name: 'CVE-2022-0456', severity: 'not yet assigned', normalized_severity: 'Unknown', fixed_in_version: '98.0.4758.80-1', links: 'https://security-tracker.debian.org/tracker/CVE-2022-0456', ...bookworm },
      { package_name: 'sope', name: 'CVE-2025-53603', severity: 'not yet assigned', normalized_severity: 'Unknown', fixed_in_version: '5.8.0-1+deb12u1', links: 'https://security-tracker.debian.org/tracker/CVE-2025-53603', ...bookworm },
    ]);

    // A second build from the same mirror: the same bytes.
    const second = await buildBundle({ mirror, out: path.join(work, 'b2'), sources: SOURCES, log: silentLogger });
    expect(second.digest).toBe(first.digest);
    for (const f of first.files) expect((await readFile(path.join(work, 'b2', f.path))).equals(await readFile(path.join(work, 'b1', f.path))), f.path).toBe(true);
    // Re-fetching unchanged upstream is conditional, and rebuilds the same bytes again.
    const [s0, d0] = [shared.log.length, derived.log.length];
    await fetchFeeds({ mirror, sources: SOURCES, urls: urls(), options: OPTIONS, log: silentLogger });
    const refetch = [...shared.log.slice(s0), ...derived.log.slice(d0)];
    expect(refetch).toHaveLength(12 + 1 + 2);
    expect(refetch.every((r) => r.conditional && r.status === 304)).toBe(true);
    const third = await buildBundle({ mirror, out: path.join(work, 'b3'), sources: SOURCES, log: silentLogger });
    expect(third.digest).toBe(first.digest);
    const reloaded = await loadBundle({ bundle: path.join(work, 'b3'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(reloaded.outcome).toBe('unchanged');
  });

  it('the shared debian tracker excerpt, which claircore cannot decode, fails the build (exit 3) naming file and record; nothing is written', async () => {
    const mirror = path.join(work, 'mirror-shared');
    const sharedUrls = { 'debian.tracker': `${shared.url}/debian-security-tracker/`, 'debian.dists': `${shared.url}/deb.debian.org/` };
    await fetchFeeds({ mirror, sources: ['debian'], urls: sharedUrls, options: { 'debian-releases': 'bookworm' }, log: silentLogger });
    const out = path.join(work, 'never');
    const err = await buildBundle({ mirror, out, sources: ['debian'], log: silentLogger }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as FeedError).exitCode).toBe(3);
    expect((err as FeedError).message).toBe('feed debian, file debian.tracker/tracker/data/json, record package chromium-browser, CVE-2022-0358: '
      + 'not a security tracker document: cannot unmarshal array into releases (object)');
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('without --option alpine-releases, discovery against this mirror (no directory listings) finds edge only, as claircore does', async () => {
    const mirror = path.join(work, 'mirror-default');
    await fetchFeeds({ mirror, sources: ['alpine'], urls: { alpine: `${shared.url}/alpine-secdb/` }, log: silentLogger });
    const m = await buildBundle({ mirror, out: path.join(work, 'b-default'), sources: ['alpine'], log: silentLogger });
    expect(m.updaters.map((u) => [u.name, u.rows])).toEqual([['alpine-community-edge-updater', 5459], ['alpine-main-edge-updater', 2538]]);
  });
});
