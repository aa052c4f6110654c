import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildBundle, fetchFeeds } from '../../../src/build.js';
import { loadBundle } from '../../../src/load/load.js';
import { createLogger } from '../../../src/log.js';
import { createDb } from './db.js';
import { diffDatabases, formatDataReport, formatKeyLists, hasDifferences } from './data-diff.js';
import { planFeeds } from './feeds.js';
import { oracle, VERSIONS, type OracleVersion } from './oracle.js';

/**
 * The data comparison for one claircore version, one test per registered feed:
 *   A: `oracle migrate`, then `oracle load --updater <set>` (claircore's own updater, store and
 *      update manager reading the fixture mirror over HTTP);
 *   B: `oracle migrate` (same claircore), then clair-bundle: fetchFeeds from `oracle serve`
 *      (identical headers) into a temporary mirror, buildBundle for the version's target,
 *      loadBundle;
 * then every updater's latest rows are diffed (lib/data-diff.ts). Strict for every feed that
 * declares the target; feeds that do not are reported as skipped.
 */
export function defineDataSuite(version: OracleVersion): void {
  const { target } = VERSIONS[version];
  const plans = planFeeds(target);

  describe(`data: claircore ${version} (oracle) vs clair-bundle --target ${target}`, () => {
    if (plans.length === 0) console.log(`[${version}] not compared: src/feeds/index.ts registers no feeds yet`);
    for (const plan of plans) {
      if (!plan.compare) {
        // Not compared (printed, not a skipped test). A target the feed has no rules for must be
        // refused by build rather than silently built with other rules.
        console.log(`[${version}] not compared: ${plan.reason}`);
        if (plan.unsupportedTarget) {
          it(`${plan.feed.id}: build refuses --target ${target}`, async () => {
            const { outDir } = inject('conformance');
            await expect(buildBundle({ mirror: outDir, out: path.join(outDir, 'never'), sources: [plan.feed.id], target, log: createLogger({ level: 'error' }) }))
              .rejects.toThrow(new RegExp(`${plan.feed.id} cannot build rows for --target ${target}`));
          });
        }
        continue;
      }
      it(plan.feed.id, async () => {
        const { mirrorUrl, outDir } = inject('conformance');
        const work = path.join(outDir, `data-${version}-${plan.feed.id}`);
        await rm(work, { recursive: true, force: true });
        await mkdir(work, { recursive: true });
        const logLines: string[] = [];
        const log = createLogger({ level: 'info', write: (l) => logLines.push(l) });
        const times: Record<string, number> = {};
        const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
          const t = Date.now();
          try {
            return await fn();
          } finally {
            times[name] = (Date.now() - t) / 1000;
          }
        };
        try {
          // A: claircore.
          const dbA = await createDb(`a_${version}_${plan.feed.id}`);
          await timed('A migrate', () => oracle(version, ['migrate', '--db', dbA], { logFile: path.join(work, 'A-migrate.log') }));
          await timed('A load', () => oracle(version, ['load', '--db', dbA, '--mirror', inject('conformance').mirrorDir, '--updater', plan.oracleSet, '--quiet-mirror'],
            { logFile: path.join(work, 'A-load.log') }).then((r) => writeFile(path.join(work, 'A-load.json'), r.stdout)));

          // B: clair-bundle on a schema migrated by the same claircore.
          const dbB = await createDb(`b_${version}_${plan.feed.id}`);
          await timed('B migrate', () => oracle(version, ['migrate', '--db', dbB], { logFile: path.join(work, 'B-migrate.log') }));
          const mirror = path.join(work, 'mirror');
          const bundle = path.join(work, 'bundle');
          const urls = Object.fromEntries(Object.entries(plan.parts).map(([part, rel]) => [part, mirrorUrl + rel]));
          await timed('B fetch', () => fetchFeeds({ mirror, sources: [plan.feed.id], urls, log }));
          await timed('B build', () => buildBundle({ mirror, out: bundle, sources: [plan.feed.id], target, log }));
          const summary = await timed('B load', () => loadBundle({ bundle, connection: { connectionString: dbB }, target: 'conformance database B', log }));
          if (summary.notes.length) logLines.push(...summary.notes.map((n) => `load note: ${n}`));

          const diffs = await timed('diff', () => diffDatabases(dbA, dbB));
          const title = `data ${plan.feed.id}: A = claircore ${version} (oracle load), B = clair-bundle --target ${target} ` +
            `(${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')})`;
          const report = formatDataReport(title, diffs);
          await writeFile(path.join(work, 'report.txt'), `${report}\n\n${formatKeyLists(diffs)}\n`);
          console.log(report);
          expect(diffs.length, `no updater rows in either database for ${plan.feed.id}`).toBeGreaterThan(0);
          const bad = diffs.filter(hasDifferences).map((d) => d.updater);
          expect(bad, `updaters whose rows differ (report: ${path.join(work, 'report.txt')})`).toEqual([]);
          // Passed: keep the reports and logs, drop the bulky mirror copy and bundle.
          await rm(mirror, { recursive: true, force: true });
          await rm(bundle, { recursive: true, force: true });
        } finally {
          await writeFile(path.join(work, 'clair-bundle.log'), logLines.join('\n') + '\n');
        }
      });
    }
  });
}
