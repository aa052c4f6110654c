import { beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { calibrate, crashAll, rng, type Scenario } from './lib/crash.js';
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
  console.log(`seed ${random.seed} (FAULTS_SEED=${random.seed} repeats the kill offsets); phases (ms):`,
    sc.phases.map((p) => `${p.phase} ${p.ms}`).join(', '));
}, 120_000);

describe('kill -9 during an initial load into an empty database', () => {
  it('covers verify, migrate, lock, every COPY, every merge step, the MV refresh and both sides of COMMIT', () => {
    const names = sc.phases.map((p) => p.phase);
    for (const p of ['verify', 'migrate', 'lock', 'fast-path-begin', 'insert-vulns', 'fast-path-end', 'refresh-latest', 'record-load', 'commit']) expect(names).toContain(p);
    expect(names.filter((n) => n.startsWith('copy:')).length).toBeGreaterThanOrEqual(5);
  });

  it('leaves Clair\'s tables as before (or as a clean load, once COMMIT went through) at every point, and the next load succeeds', async () => {
    const { notes, landed } = await crashAll(sc);
    console.log(notes.join('\n'));
    console.log('kills that landed in each phase:', JSON.stringify(landed));
    expect(Object.entries(landed).filter(([, n]) => n < 3)).toEqual([]);
    const failures = notes.filter((n) => /CHANGED|NOT OK|differs|never started/.test(n));
    expect(failures).toEqual([]);
  }, 600_000);
});

