import { beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { calibrate, expectCrashesSurvived, logPhases, rng, type Scenario } from './lib/crash.js';
import { cloneDb, dropDb, logicalDump } from './lib/db.js';

/**
 * kill -9 while an initial load pipes the alias links of the file copied straight into vuln from its
 * second session into the link tables' COPYs (sql/load/pipe-aliases-begin.sql), and in the steps
 * around it: a bundle whose copied updater has aliases, so that the pipe is used (crash-initial's
 * has none). Only those phases: the others are crash-initial's. See lib/crash.ts.
 */
const ROWS = 5_000;
const PIPED = ['wait-side-aliases', 'pipe-aliases-begin', 'pipe-aliases', 'take-side-aliases', 'link-aliases'];
const sc = {} as Scenario;
const random = rng();

beforeAll(async () => {
  const b = await makeGeneration({ rows: ROWS, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'none', aliases: true });
  const db = await cloneDb('tpl_clair20');
  const phases = await calibrate(b.dir, db.url);
  Object.assign(sc, {
    area: 'crash (kill -9): initial load, piped alias links', template: 'tpl_clair20', bundle: b.dir, digest: b.manifest.digest,
    phases: phases.filter((p) => PIPED.includes(p.phase)), clean: await logicalDump(db.url), random: random.next,
  });
  await dropDb(db.name);
  logPhases(sc, random.seed);
}, 120_000);

describe('kill -9 while an initial load pipes its alias links', () => {
  it('the load pipes them (the phase is there to kill)', () => {
    expect(sc.phases.map((p) => p.phase)).toEqual(PIPED);
  });

  it('leaves Clair\'s tables as before at every point, and the next load succeeds', async () => {
    await expectCrashesSurvived(sc);
  }, 300_000);
});
