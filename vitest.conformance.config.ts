import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * `npm run conformance`: compares clair-bundle with claircore itself (test/oracle), schema and
 * data, on a throwaway PostgreSQL. Separate from vitest.config.ts so `npm test` does not run it.
 *
 * The shared fixtures keep OSV's bucket under osv/, but upstream serves ecosystems.txt at the
 * bucket root, which is where claircore's OSV updater asks for it. Unless CONFORMANCE_MIRROR is
 * set, the suite runs on a view of the fixtures (symbolic links, no copied or invented data)
 * that also has the bucket's ecosystems.txt at the root.
 */
function fixtureView(): string {
  const fixtures = path.resolve(import.meta.dirname, '../shared/fixtures/feeds');
  const view = mkdtempSync(path.join(os.tmpdir(), 'clair-bundle-conformance-mirror-'));
  // Links only; gone when the run ends.
  process.once('exit', () => rmSync(view, { recursive: true, force: true }));
  for (const entry of readdirSync(fixtures)) symlinkSync(path.join(fixtures, entry), path.join(view, entry));
  const eco = path.join(fixtures, 'osv', 'ecosystems.txt');
  if (existsSync(eco) && !existsSync(path.join(view, 'ecosystems.txt'))) symlinkSync(eco, path.join(view, 'ecosystems.txt'));
  // Oracle's updaters read one ELSA file per year; the shared fixtures hold only the all-years
  // excerpt, the repository holds claircore's real 2018 file (test/fixtures/oracle/README.md).
  const elsa2018 = path.resolve(import.meta.dirname, 'test/fixtures/oracle/com.oracle.elsa-2018.xml.bz2');
  const ovalDir = path.join('oracle-oval', 'security', 'oval');
  if (existsSync(elsa2018) && existsSync(path.join(fixtures, ovalDir))) {
    rmSync(path.join(view, 'oracle-oval'));
    mkdirSync(path.join(view, ovalDir), { recursive: true });
    for (const entry of readdirSync(path.join(fixtures, ovalDir))) symlinkSync(path.join(fixtures, ovalDir, entry), path.join(view, ovalDir, entry));
    symlinkSync(elsa2018, path.join(view, ovalDir, 'com.oracle.elsa-2018.xml.bz2'));
  }
  return view;
}

process.env.CONFORMANCE_MIRROR ??= fixtureView();

export default defineConfig({
  test: {
    name: 'conformance',
    include: ['test/conformance/**/*.test.ts'],
    globalSetup: ['test/helpers/tmp-root.ts', 'test/conformance/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    minWorkers: 1,
    // Reports are printed with console.log; show them for passing tests too.
    silent: false,
  },
});
