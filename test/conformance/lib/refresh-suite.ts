import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, inject, it } from 'vitest';
import { buildBundle, fetchFeeds } from '../../../src/build.js';
import { loadBundle, type LoadSummary } from '../../../src/load/load.js';
import { createLogger } from '../../../src/log.js';
import { createDb } from './db.js';
import { diffDatabases, formatDataReport, formatKeyLists, hasDifferences } from './data-diff.js';
import { ORACLE_FEEDS } from './feeds.js';
import { oracle, VERSIONS, type OracleVersion } from './oracle.js';
import { serveMirror } from './serve.js';

/** Where rhel-vex lists the documents published after its archive (relative to the mirror). */
const CHANGES = 'rhel-vex/csaf/v2/vex/changes.csv';
/**
 * The earlier mirror lacks two of changes.csv's entries: one document that exists only loose
 * (its rows are new in the refresh) and one whose archived revision is older (its rows change).
 */
const NOT_YET_PUBLISHED = ['2025/cve-2025-58443.json', '2023/cve-2023-1664.json'];

/** The mirror's rhel-vex tree as symbolic links, with changes.csv as it was before NOT_YET_PUBLISHED. */
async function earlierMirror(mirror: string, dir: string): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    await mkdir(path.join(dir, rel), { recursive: true });
    for (const entry of await readdir(path.join(mirror, rel))) {
      const r = path.join(rel, entry);
      if ((await stat(path.join(mirror, r))).isDirectory()) await walk(r);
      else if (r !== CHANGES) await symlink(path.join(mirror, r), path.join(dir, r));
    }
  };
  await walk('rhel-vex');
  const lines = (await readFile(path.join(mirror, CHANGES), 'utf8')).split('\n');
  const kept = lines.filter((l) => !NOT_YET_PUBLISHED.some((doc) => l.startsWith(`"${doc}"`)));
  expect(lines.length - kept.length, `changes.csv lists ${NOT_YET_PUBLISHED.join(', ')}`).toBe(NOT_YET_PUBLISHED.length);
  await writeFile(path.join(dir, CHANGES), kept.join('\n'));
}

/**
 * The refresh path against claircore: clair-bundle loads a bundle of an earlier rhel-vex mirror,
 * then the bundle of today's mirror (a refresh that reads only the rows whose keys are new); the
 * latest rows must equal claircore's own load of today's mirror, as after an initial load.
 */
export function defineRefreshTest(version: OracleVersion): void {
  const { target } = VERSIONS[version];
  it('rhel-vex refresh: a bundle of an earlier mirror, then today\'s, leaves what claircore loads from today\'s', async () => {
    const { mirrorDir, mirrorUrl, outDir, oracles } = inject('conformance');
    const work = path.join(outDir, `refresh-${version}-rhel-vex`);
    await rm(work, { recursive: true, force: true });
    const logLines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => logLines.push(l) });
    const parts = ORACLE_FEEDS['rhel-vex'].parts;
    const urlsAt = (base: string) => Object.fromEntries(Object.entries(parts).map(([part, rel]) => [part, base + rel]));
    const bundleOf = async (name: string, base: string): Promise<string> => {
      const mirror = path.join(work, `${name}-mirror`);
      const bundle = path.join(work, `${name}-bundle`);
      await fetchFeeds({ mirror, sources: ['rhel-vex'], urls: urlsAt(base), log });
      await buildBundle({ mirror, out: bundle, sources: ['rhel-vex'], target, log });
      return bundle;
    };
    try {
      const earlierDir = path.join(work, 'earlier-view');
      await earlierMirror(mirrorDir, earlierDir);
      const server = await serveMirror(oracles[version], earlierDir);
      let earlier: string;
      try {
        earlier = await bundleOf('earlier', server.url);
      } finally {
        await server.stop();
      }
      const today = await bundleOf('today', mirrorUrl);

      const dbA = await createDb(`ra_${version}`);
      await oracle(version, ['migrate', '--db', dbA], { logFile: path.join(work, 'A-migrate.log') });
      await oracle(version, ['load', '--db', dbA, '--mirror', mirrorDir, '--updater', 'rhel-vex', '--quiet-mirror'], { logFile: path.join(work, 'A-load.log') });

      const dbB = await createDb(`rb_${version}`);
      await oracle(version, ['migrate', '--db', dbB], { logFile: path.join(work, 'B-migrate.log') });
      const rhel = (s: LoadSummary) => s.updaters.find((u) => u.name === 'rhel-vex')!;
      const first = await loadBundle({ bundle: earlier, connection: { connectionString: dbB }, target: 'conformance database B', log });
      const refresh = await loadBundle({ bundle: today, connection: { connectionString: dbB }, target: 'conformance database B', log });
      const r = rhel(refresh);
      console.log(`[${version}] rhel-vex refresh: ${rhel(first).rows} rows, then ${r.rows} rows of which ${r.staged} staged, ${r.inserted} inserted`);
      // The refresh changed rhel-vex and read only its new rows: the keyed path is what is judged.
      expect(r.action).toBe('loaded');
      expect(r.staged).toBeGreaterThan(0);
      expect(r.staged).toBeLessThan(r.rows);

      const diffs = await diffDatabases(dbA, dbB);
      const report = formatDataReport(`refresh rhel-vex: A = claircore ${version} (oracle load of today's mirror), B = clair-bundle --target ${target} (earlier bundle, then today's)`, diffs);
      await writeFile(path.join(work, 'report.txt'), `${report}\n\n${formatKeyLists(diffs)}\n`);
      console.log(report);
      expect(diffs.length).toBeGreaterThan(0);
      expect(diffs.filter(hasDifferences).map((d) => d.updater), `updaters whose rows differ (report: ${path.join(work, 'report.txt')})`).toEqual([]);
      for (const name of ['earlier', 'today']) {
        await rm(path.join(work, `${name}-mirror`), { recursive: true, force: true });
        await rm(path.join(work, `${name}-bundle`), { recursive: true, force: true });
      }
      await rm(earlierDir, { recursive: true, force: true });
    } finally {
      await mkdir(work, { recursive: true });
      await writeFile(path.join(work, 'clair-bundle.log'), logLines.join('\n') + '\n');
    }
  });
}
