import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { calibrate, expectCrashesSurvived, logPhases, rng, type Scenario } from './lib/crash.js';
import { run } from './lib/cli.js';
import { cloneDb, dropDb, logicalDump } from './lib/db.js';

/**
 * kill -9 at every phase of a refresh (also a keyed one) of a loaded Clair database (new update operations, existing rows
 * linked, the MV switched at COMMIT). See lib/crash.ts.
 */
const ROWS = 5_000;
const templates: string[] = [];

/** A scenario: generation 1 loaded (the template), then generation 2 with `replaced` of debian's rows replaced. */
async function refreshScenario(area: string, replaced?: number): Promise<Scenario> {
  const random = rng();
  const b1 = await makeGeneration({ rows: ROWS, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  const b2 = await makeGeneration({ rows: ROWS, generation: 2, created: '2026-01-02T00:00:00Z', mapping: 'excerpt', replaced });
  // The template: generation 1 loaded (no connection left, so it can be cloned).
  const tpl = await cloneDb('tpl_clair20', 'tpl');
  templates.push(tpl.name);
  const first = await run(['load', b1.dir, '--db', tpl.url], { label: 'template' });
  expect(first.status, first.stderr).toBe(0);
  const db = await cloneDb(tpl.name);
  const sc: Scenario = {
    area, template: tpl.name, bundle: b2.dir, digest: b2.manifest.digest,
    phases: await calibrate(b2.dir, db.url), clean: await logicalDump(db.url), random: random.next,
  };
  await dropDb(db.name);
  logPhases(sc, random.seed);
  return sc;
}

describe('kill -9 during a refresh of a loaded database', () => {
  const sc = {} as Scenario;
  beforeAll(async () => {
    Object.assign(sc, await refreshScenario('crash (kill -9): refresh of a loaded DB'));
  }, 120_000);

  it('covers verify, migrate, lock, the COPYs of the changed updaters, every merge step, the MV refresh and both sides of COMMIT', () => {
    const names = sc.phases.map((p) => p.phase);
    for (const p of ['verify', 'migrate', 'lock', 'resolve-vulns', 'insert-vulns', 'link-vulns', 'refresh-latest', 'record-load', 'commit']) expect(names).toContain(p);
    expect(names.filter((n) => n.startsWith('copy:')).length).toBeGreaterThanOrEqual(2);
  });

  it('leaves Clair\'s tables as before (or as a clean load, once COMMIT went through) at every point, and the next load succeeds', async () => {
    await expectCrashesSurvived(sc);
  }, 600_000);
});

describe('kill -9 during a keyed refresh (the prior links linked while the rows to stage go to temporary files)', () => {
  const sc = {} as Scenario;
  beforeAll(async () => {
    Object.assign(sc, await refreshScenario('crash (kill -9): keyed refresh', 0.02));
  }, 120_000);

  it('covers the keys\' COPY, plan-keyed, link-prior and the COPYs of the rows read into temporary files', () => {
    const names = sc.phases.map((p) => p.phase);
    for (const p of ['copy:keys/debian%2Fupdater.csv', 'plan-keyed', 'link-prior', 'copy:vulnerabilities/debian%2Fupdater.csv', 'link-vulns', 'record-keys', 'commit']) expect(names).toContain(p);
    expect(names.indexOf('link-prior')).toBeLessThan(names.indexOf('copy:vulnerabilities/debian%2Fupdater.csv'));
  });

  it('leaves Clair\'s tables as before (or as a clean load, once COMMIT went through) at every point, and the next load succeeds', async () => {
    await expectCrashesSurvived(sc);
  }, 600_000);
});

afterAll(async () => {
  for (const t of templates) await dropDb(t);
});
