import { access, cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError } from '../../src/errors.js';
import { buildBundle, fetchFeeds } from '../../src/build.js';
import { silentLogger } from '../../src/log.js';
import { loadBundle } from '../../src/load/load.js';
import { createClairDb, query } from '../helpers/db.js';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.js';

// The shared fixtures have no Launchpad API response; a stand-in series list is served by a
// second server (test/fixtures/ubuntu/README.md).
const LAUNCHPAD = path.resolve(import.meta.dirname, '../fixtures/ubuntu/launchpad');
const SOURCES = ['ubuntu', 'osv'];

describe('ubuntu and osv end to end: fetch → build → load → query', () => {
  let feeds: FeedServer;
  let launchpad: FeedServer;
  beforeAll(async () => {
    feeds = await startFeedServer();
    launchpad = await startFeedServer({ root: LAUNCHPAD });
  });
  afterAll(async () => {
    await feeds?.close();
    await launchpad?.close();
  });

  it('loads the expected records under claircore\'s updater names; the same mirror rebuilds byte-identical', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-ubuntu-osv-'));
    const mirror = path.join(work, 'mirror');
    const urls = {
      'ubuntu.launchpad': `${launchpad.url}/`,
      'ubuntu.oval': `${feeds.url}/ubuntu-oval/`,
      osv: `${feeds.url}/osv/`,
    };
    await fetchFeeds({ mirror, sources: SOURCES, urls, log: silentLogger });
    // claircore's requests: the series list, a HEAD per active series, the OVAL it names; ecosystems.txt and one dump per kept ecosystem.
    expect(feeds.log.filter((r) => r.method === 'HEAD').map((r) => [r.path, r.status])).toEqual([
      ['/ubuntu-oval/oval/com.ubuntu.jammy.cve.oval.xml', 404],
      ['/ubuntu-oval/oval/com.ubuntu.bionic.cve.oval.xml', 200],
    ]);
    expect(feeds.log.filter((r) => r.method === 'GET' && r.path.startsWith('/osv/')).map((r) => r.path)).toEqual([
      '/osv/ecosystems.txt', '/osv/PyPI/all.zip', '/osv/Maven/all.zip', '/osv/Go/all.zip', '/osv/crates.io/all.zip', '/osv/npm/all.zip',
    ]);

    const first = await buildBundle({ mirror, out: path.join(work, 'b1'), sources: SOURCES, log: silentLogger });
    const rows = Object.fromEntries(first.updaters.map((u) => [u.name, u.rows]));
    expect(Object.keys(rows).sort()).toEqual(['osv/crates.io', 'osv/go', 'osv/maven', 'osv/npm', 'osv/pypi', 'ubuntu/updater/bionic']);
    expect(rows['ubuntu/updater/bionic']).toBe(4);

    const url = await createClairDb(20);
    const loaded = await loadBundle({ bundle: path.join(work, 'b1'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(loaded.outcome).toBe('loaded');
    const latest = (updater: string, where = 'true') => query(url, `SELECT v.* FROM vuln v JOIN uo_vuln u ON u.vuln = v.id
      JOIN latest_update_operations l ON l.id = u.uo WHERE l.updater = $1 AND ${where} ORDER BY v.name, v.package_name, v.fixed_in_version`, [updater]);

    // Ubuntu: the definition title is the name; one row per binary package of the source package.
    const bionic = await latest('ubuntu/updater/bionic');
    expect(bionic.map((r) => [r.name, r.package_name, r.fixed_in_version, r.normalized_severity, r.dist_version])).toEqual([
      ['CVE-2016-8703 on Ubuntu 18.04 LTS (bionic) - medium.', 'libpotrace0', '1.14-2', 'Medium', '18.04 (Bionic)'],
      ['CVE-2016-8703 on Ubuntu 18.04 LTS (bionic) - medium.', 'potrace', '1.14-2', 'Medium', '18.04 (Bionic)'],
      ['CVE-2016-8860 on Ubuntu 18.04 LTS (bionic) - medium.', 'tor', '0.2.8.9-1ubuntu1', 'Medium', '18.04 (Bionic)'],
      ['CVE-2016-8860 on Ubuntu 18.04 LTS (bionic) - medium.', 'tor-geoipdb', '0.2.8.9-1ubuntu1', 'Medium', '18.04 (Bionic)'],
    ]);
    expect(bionic[0]).toMatchObject({ package_kind: 'binary', dist_id: 'ubuntu', dist_version_code_name: 'bionic', severity: '', arch_operation: 'invalid' });

    // OSV Go: a SEMVER range; ECOSYSTEM ranges of Go advisories are skipped (v1.5.54).
    const gin = await latest('osv/go');
    expect(gin.map((r) => [r.name, r.package_name, r.fixed_in_version, r.version_kind, r.vulnerable_range])).toEqual([
      ['GHSA-2c4m-59x9-fr2g', 'github.com/gin-gonic/gin', '1.9.1', 'semver', '["{0,1,3,1,0,0,0,0,0,0}","{0,1,9,1,0,0,0,0,0,0}")'],
    ]);
    // PyPI: URL-query fixed-in versions, no range.
    const torch = await latest('osv/pypi', "v.name = 'GHSA-4vmg-rw8f-92f9'");
    expect(torch.map((r) => [r.package_name, r.fixed_in_version, r.vulnerable_range, r.repo_uri])).toEqual([['torch', 'lastAffected=2.3.1', 'empty', 'https://pypi.org/']]);
    // Maven: an advisory withdrawn upstream is not loaded.
    expect(await latest('osv/maven', "v.name = 'GHSA-57m8-f3v5-hm5m'")).toEqual([]);
    // Aliases: GHSA-2c4m-59x9-fr2g is known as CVE-2023-29401 and GO-2023-1737.
    const aliases = await query(url, `SELECT DISTINCT n.namespace || '-' || a.name AS alias FROM vulnerability_alias va JOIN alias a ON a.id = va.alias
      JOIN alias_namespace n ON n.id = a.namespace JOIN vuln v ON v.id = va.vulnerability WHERE v.name = 'GHSA-2c4m-59x9-fr2g' ORDER BY 1`);
    expect(aliases.map((r) => r.alias)).toEqual(['CVE-2023-29401', 'GO-2023-1737']);

    // Same upstream again: conditional requests, the same bundle bytes, an unchanged load.
    const before = feeds.log.length;
    await fetchFeeds({ mirror, sources: SOURCES, urls, log: silentLogger });
    expect(feeds.log.slice(before).filter((r) => r.status === 304).length).toBeGreaterThan(0);
    const second = await buildBundle({ mirror, out: path.join(work, 'b2'), sources: SOURCES, log: silentLogger });
    expect(second.digest).toBe(first.digest);
    for (const f of first.files) {
      expect(await readFile(path.join(work, 'b2', f.path))).toEqual(await readFile(path.join(work, 'b1', f.path)));
    }
    const again = await loadBundle({ bundle: path.join(work, 'b2'), connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(again.outcome).toBe('unchanged');
  });

  it('a malformed mirror file fails the build with a FeedError naming it, and writes no bundle', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-ubuntu-osv-sad-'));
    const mirror = path.join(work, 'mirror');
    const urls = { 'ubuntu.launchpad': `${launchpad.url}/`, 'ubuntu.oval': `${feeds.url}/ubuntu-oval/`, osv: `${feeds.url}/osv/` };
    await fetchFeeds({ mirror, sources: SOURCES, urls, log: silentLogger });
    const broken = path.join(work, 'broken');
    await cp(mirror, broken, { recursive: true });
    const xml = await readFile(path.join(broken, 'ubuntu.oval/oval/com.ubuntu.bionic.cve.oval.xml'), 'utf8');
    await writeFile(path.join(broken, 'ubuntu.oval/oval/com.ubuntu.bionic.cve.oval.xml'), xml.replace('</title>', '</titel>'));
    const out = path.join(work, 'never');
    const err = await buildBundle({ mirror: broken, out, sources: SOURCES, log: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect(err).toMatchObject({ exitCode: 3, place: { feed: 'ubuntu', file: 'ubuntu.oval/oval/com.ubuntu.bionic.cve.oval.xml' } });
    await expect(access(out)).rejects.toThrow();
    // An allowlisted ecosystem that ecosystems.txt does not list is refused the same way.
    const unknown = await buildBundle({ mirror, out, sources: ['osv'], options: { 'osv-ecosystems': 'pypi,cobol' }, log: silentLogger }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ exitCode: 3, place: { feed: 'osv', file: 'osv/ecosystems.txt', record: 'cobol' } });
    await expect(access(out)).rejects.toThrow();
  });
});
