import { beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { calibrate, expectCrashesSurvived, logPhases, rng, type Scenario } from './lib/crash.js';
import { cloneDb, dropDb, logicalDump } from './lib/db.js';

/**
 * kill -9 at every phase of an initial load into an empty Clair database (the fast path that sets
 * indexes and foreign keys aside inside the transaction). See lib/crash.ts.
 */
const ROWS = 5_000;
const sc = {} as Scenario;
const random = rng();

beforeAll(async () => {
  const b = await makeGeneration({ rows: ROWS, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  const db = await cloneDb('tpl_clair20');
  Object.assign(sc, {
    area: 'crash (kill -9): initial load, empty DB', template: 'tpl_clair20', bundle: b.dir, digest: b.manifest.digest,
    phases: await calibrate(b.dir, db.url), clean: await logicalDump(db.url), random: random.next,
  });
  await dropDb(db.name);
  logPhases(sc, random.seed);
}, 120_000);

describe('kill -9 during an initial load into an empty database', () => {
  it('covers verify, migrate, lock, every COPY, every merge step, the MV refresh and both sides of COMMIT', () => {
    const names = sc.phases.map((p) => p.phase);
    for (const p of ['verify', 'migrate', 'lock', 'fast-path-begin', 'insert-vulns', 'fast-path-end', 'refresh-latest', 'record-load', 'commit']) expect(names).toContain(p);
    expect(names.filter((n) => n.startsWith('copy:')).length).toBeGreaterThanOrEqual(5);
  });

  it('leaves Clair\'s tables as before (or as a clean load, once COMMIT went through) at every point, and the next load succeeds', async () => {
    await expectCrashesSurvived(sc);
  }, 600_000);
});

