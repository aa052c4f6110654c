import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { calibrate, expectCrashesSurvived, logPhases, rng, type Scenario } from './lib/crash.js';
import { run } from './lib/cli.js';
import { cloneDb, dropDb, logicalDump } from './lib/db.js';

/**
 * kill -9 at every phase of an refresh of a loaded Clair database (new update operations, existing rows
 * linked, the MV switched at COMMIT). See lib/crash.ts.
 */
const ROWS = 5_000;
const sc = {} as Scenario;
const random = rng();
let templateDb = '';

beforeAll(async () => {
  const b1 = await makeGeneration({ rows: ROWS, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  const b2 = await makeGeneration({ rows: ROWS, generation: 2, created: '2026-01-02T00:00:00Z', mapping: 'excerpt' });
  // The template: generation 1 loaded (no connection left, so it can be cloned).
  const tpl = await cloneDb('tpl_clair20', 'tpl');
  templateDb = tpl.name;
  const first = await run(['load', b1.dir, '--db', tpl.url], { label: 'template' });
  expect(first.status, first.stderr).toBe(0);
  const db = await cloneDb(tpl.name);
  Object.assign(sc, {
    area: 'crash (kill -9): refresh of a loaded DB', template: tpl.name, bundle: b2.dir, digest: b2.manifest.digest,
    phases: await calibrate(b2.dir, db.url), clean: await logicalDump(db.url), random: random.next,
  });
  await dropDb(db.name);
  logPhases(sc, random.seed);
}, 120_000);

describe('kill -9 during a refresh of a loaded database', () => {
  it('covers verify, migrate, lock, the COPYs of the changed updaters, every merge step, the MV refresh and both sides of COMMIT', () => {
    const names = sc.phases.map((p) => p.phase);
    for (const p of ['verify', 'migrate', 'lock', 'resolve-vulns', 'insert-vulns', 'link-vulns', 'refresh-latest', 'record-load', 'commit']) expect(names).toContain(p);
    expect(names.filter((n) => n.startsWith('copy:')).length).toBeGreaterThanOrEqual(2);
  });

  it('leaves Clair\'s tables as before (or as a clean load, once COMMIT went through) at every point, and the next load succeeds', async () => {
    await expectCrashesSurvived(sc);
  }, 600_000);
});

afterAll(async () => {
  if (templateDb) await dropDb(templateDb);
});
