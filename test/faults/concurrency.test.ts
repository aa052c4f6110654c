import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnv1a64Signed } from '../../src/model/fnv.js';
import { makeGeneration, READER_PACKAGE, readerExpectation } from './lib/bundles.js';
import { errorLines, run, start, type Run } from './lib/cli.js';
import { clairPart, cloneDb, dropDb, exactDump, logicalDump, MATCHER_QUERY, query } from './lib/db.js';
import { tally } from './lib/tally.js';

/**
 * Concurrency: several loaders at once (same bundle, different bundles), a session holding one
 * of Clair's per-updater advisory locks or the GC lock during a load, Clair's own updater asking
 * for its lock while we load, and Clair-style readers running the matcher query in a loop during
 * a load: all-old or all-new, never a mix, never empty on a refresh; during the initial load into
 * an empty database, readers wait for the COMMIT (the fast path holds vuln and uo_vuln exclusively).
 */
const AREA = 'concurrency';
const dbs: string[] = [];
const fresh = async (template = 'tpl_clair20') => {
  const db = await cloneDb(template);
  dbs.push(db.name);
  return db;
};
afterAll(async () => {
  for (const d of dbs) await dropDb(d);
});

const outcome = (r: Run) => /outcome: (\w+)/.exec(r.stdout)?.[1] ?? `exit ${r.status}`;

/** What Clair's matcher can see: every (updater, row hash) linked to a latest update operation. */
async function latestView(url: string): Promise<string> {
  const [r] = await query<{ h: string }>(url, `SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) AS h FROM (
    SELECT l.updater || ' ' || encode(v.hash, 'hex') AS x FROM latest_update_operations l JOIN uo_vuln u ON u.uo = l.id JOIN vuln v ON v.id = u.vuln
    UNION ALL SELECT l.updater || ' ' || encode(e.hash, 'hex') FROM latest_update_operations l JOIN uo_enrich u ON u.uo = l.id JOIN enrichment e ON e.id = u.enrich) s`);
  return r.h;
}

describe('several loaders at once', () => {
  let bundle: { dir: string };
  let cleanLogical: Record<string, string>;
  beforeAll(async () => {
    bundle = await makeGeneration({ rows: 5000, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
    const db = await fresh();
    expect((await run(['load', bundle.dir, '--db', db.url], { label: 'conc-clean' })).status).toBe(0);
    cleanLogical = await logicalDump(db.url);
  });

  it.each([2, 3, 5])('%i loaders, same bundle, empty database: one loads, the others find it unchanged', async (n) => {
    const db = await fresh();
    const runs = await Promise.all(Array.from({ length: n }, (_, i) => run(['load', bundle.dir, '--db', db.url], { label: `same-${n}-${i}` })));
    const outcomes = runs.map(outcome).sort();
    const logical = await logicalDump(db.url);
    const ok = runs.every((r) => r.status === 0) && outcomes.filter((o) => o === 'loaded').length === 1
      && outcomes.filter((o) => o === 'unchanged').length === n - 1 && JSON.stringify(logical) === JSON.stringify(cleanLogical);
    tally(AREA, 'fault', `${n} concurrent loaders, same bundle`, ok, outcomes.join(', '));
    expect(outcomes).toEqual(['loaded', ...Array(n - 1).fill('unchanged')]);
    expect(logical).toEqual(cleanLogical);
  });

  it.each([3, 4])('%i loaders, different bundles at once: each loads or is refused as older (exit 7); the newest one is what Clair sees', async (n) => {
    const bundles = await Promise.all(Array.from({ length: n }, (_, i) => makeGeneration({
      rows: 2000 + 100 * i, generation: 1, created: `2026-02-0${i + 1}T00:00:00Z`, mapping: 'excerpt',
    })));
    const newest = await fresh();
    expect((await run(['load', bundles[n - 1].dir, '--db', newest.url], { label: 'diff-newest' })).status).toBe(0);
    const db = await fresh();
    const runs = await Promise.all(bundles.map((b, i) => run(['load', b.dir, '--db', db.url], { label: `diff-${n}-${i}` })));
    const codes = runs.map((r) => r.status);
    const view = await latestView(db.url);
    const expected = await latestView(newest.url);
    const history = await query<{ outcome: string; created: Date }>(db.url, 'SELECT outcome, bundle_created AS created FROM clair_bundle.load_history ORDER BY id');
    // Loaded bundles went in oldest-to-newest order; every refusal names an older bundle.
    const loadedTimes = history.filter((h) => h.outcome === 'loaded').map((h) => h.created.getTime());
    const ordered = loadedTimes.every((t, i) => i === 0 || t > loadedTimes[i - 1]);
    const ok = codes.every((c) => c === 0 || c === 7) && codes[n - 1] === 0 && view === expected && ordered
      && runs.filter((r) => r.status === 7).every((r) => errorLines(r).length === 1 && /older than the newest one loaded/.test(errorLines(r)[0]));
    tally(AREA, 'fault', `${n} concurrent loaders, different bundles`, ok, `exits ${codes.join(',')}; history ${history.map((h) => h.outcome).join(',')}`);
    expect(ok, `exits ${codes}; ${JSON.stringify(history)}`).toBe(true);
  });
});

describe("Clair's advisory locks", () => {
  let b1: { dir: string };
  let b2: { dir: string };
  let loaded = '';
  beforeAll(async () => {
    b1 = await makeGeneration({ rows: 5000, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
    b2 = await makeGeneration({ rows: 5000, generation: 2, created: '2026-01-02T00:00:00Z', mapping: 'excerpt' });
    const db = await cloneDb('tpl_clair20', 'tpl');
    loaded = db.name;
    dbs.push(db.name);
    expect((await run(['load', b1.dir, '--db', db.url], { label: 'locks-template' })).status).toBe(0);
  });

  async function holding<T>(url: string, key: bigint, fn: () => Promise<T>): Promise<T> {
    const c = new pg.Client(url);
    await c.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [key.toString()]);
      return await fn();
    } finally {
      await c.end();
    }
  }

  it.each([
    ['debian/updater', ['--lock-timeout', '2s']],
    ['osv/npm', ['--no-wait']],
    ['garbage-collection', ['--lock-timeout', '1s']],
  ] as const)('a session holding pg_advisory_lock(fnv1a64(%s)): the load times out with exit 6, nothing written', async (key, args) => {
    const db = await fresh(loaded);
    const before = clairPart(await exactDump(db.url));
    const r = await holding(db.url, fnv1a64Signed(key), () => run(['load', b2.dir, '--db', db.url, ...args], { label: `lock-${key}` }));
    const same = JSON.stringify(clairPart(await exactDump(db.url))) === JSON.stringify(before);
    const errs = errorLines(r);
    const ok = r.status === 6 && errs.length === 1 && /Clair's updater or garbage collection holds a lock this load needs/.test(errs[0]) && same;
    tally(AREA, 'fault', `lock ${key} held (${args.join(' ')})`, ok, `exit ${r.status}: ${errs[0]}`);
    expect(ok, r.stderr).toBe(true);
  });

  it('the load waits for a held updater lock and proceeds once it is released', async () => {
    const db = await fresh(loaded);
    const c = new pg.Client(db.url);
    await c.connect();
    await c.query('SELECT pg_advisory_lock($1)', [fnv1a64Signed('debian/updater').toString()]);
    const s = start(['--verbose', '--log-format', 'json', 'load', b2.dir, '--db', db.url, '--lock-timeout', '60s'], { label: 'lock-wait' });
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = !s.stderr().includes('"phase":"create-staging"');
    await c.end();
    const r = await s.done;
    const ok = waiting && r.status === 0;
    tally(AREA, 'fault', 'updater lock held, then released during the wait', ok, `waited: ${waiting}, exit ${r.status}`);
    expect(ok, r.stderr.slice(-500)).toBe(true);
  });

  it("Clair's own updater asking for its lock during a load is told to skip (pg_try_advisory_lock = false)", async () => {
    const db = await fresh(loaded);
    let answers: boolean[] = [];
    const s = start(['--verbose', '--log-format', 'json', 'load', b2.dir, '--db', db.url], {
      label: 'try-lock', env: { CLAIR_BUNDLE_TEST_PAUSE: 'insert-vulns:1500' },
    });
    for (let i = 0; i < 200 && !s.stderr().includes('"test pause"'); i++) await new Promise((r) => setTimeout(r, 25));
    answers = (await query<{ a: boolean; b: boolean; gc: boolean }>(db.url, 'SELECT pg_try_advisory_lock($1) AS a, pg_try_advisory_lock($2) AS b, pg_try_advisory_lock($3) AS gc',
      [fnv1a64Signed('debian/updater').toString(), fnv1a64Signed('osv/npm').toString(), fnv1a64Signed('garbage-collection').toString()])).flatMap((x) => [x.a, x.b, x.gc]);
    const r = await s.done;
    const afterwards = (await query<{ a: boolean }>(db.url, 'SELECT pg_try_advisory_lock($1) AS a', [fnv1a64Signed('debian/updater').toString()]))[0].a;
    const ok = answers.every((a) => a === false) && r.status === 0 && afterwards;
    tally(AREA, 'fault', "Clair's updater and GC try their locks during a load", ok, `during: ${answers}, after: ${afterwards}`);
    expect(ok).toBe(true);
  });

  it('--no-wait initial load while a Clair reader holds a snapshot of vuln: waits for it, loads', async () => {
    const db = await fresh();
    const reader = new pg.Client(db.url);
    await reader.connect();
    await reader.query('BEGIN');
    await reader.query('SELECT count(*) FROM vuln');
    const s = start(['load', b1.dir, '--db', db.url, '--no-wait'], { label: 'nowait-reader' });
    await new Promise((r) => setTimeout(r, 1500));
    await reader.query('COMMIT');
    await reader.end();
    const r = await s.done;
    tally(AREA, 'fault', '--no-wait initial load with a reader transaction open', r.status === 0, `exit ${r.status}`);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('Clair-style readers during a load', () => {
  const ROWS = 60_000;
  let b1: { dir: string };
  let b2: { dir: string };
  beforeAll(async () => {
    b1 = await makeGeneration({ rows: ROWS, generation: 1, created: '2026-01-01T00:00:00Z' });
    b2 = await makeGeneration({ rows: ROWS, generation: 2, created: '2026-01-02T00:00:00Z' });
  }, 120_000);

  /** Readers loop the matcher query, each in its own read-only transaction, until `stop`. */
  function readers(url: string, n: number): { stop: () => Promise<{ results: { rows: string; ms: number; at: number }[]; errors: string[] }> } {
    let stopping = false;
    const results: { rows: string; ms: number; at: number }[] = [];
    const errors: string[] = [];
    const loops = Array.from({ length: n }, async () => {
      const c = new pg.Client(url);
      c.on('error', () => undefined);
      await c.connect();
      try {
        while (!stopping) {
          const t = Date.now();
          try {
            await c.query('BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY');
            const { rows } = await c.query<{ name: string; fixed_in_version: string }>(MATCHER_QUERY,
              [READER_PACKAGE.name, READER_PACKAGE.kind, READER_PACKAGE.distId, READER_PACKAGE.distName, READER_PACKAGE.versionId]);
            await c.query('COMMIT');
            results.push({ rows: rows.map((r) => `${r.name} ${r.fixed_in_version}`).sort().join('|'), ms: Date.now() - t, at: t });
          } catch (err) {
            errors.push((err as Error).message);
            await c.query('ROLLBACK').catch(() => undefined);
          }
        }
      } finally {
        await c.end();
      }
    });
    return {
      stop: async () => {
        stopping = true;
        await Promise.all(loops);
        return { results, errors };
      },
    };
  }

  it('refresh of a loaded database: every read is all-old or all-new, never a mix, never empty', async () => {
    const db = await fresh();
    expect((await run(['load', b1.dir, '--db', db.url], { label: 'readers-base' })).status).toBe(0);
    const oldRows = readerExpectation(1).join('|');
    const newRows = readerExpectation(2).join('|');
    const rd = readers(db.url, 3);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const r = await run(['load', b2.dir, '--db', db.url], { label: 'readers-refresh' });
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    const { results, errors } = await rd.stop();
    const during = results.filter((x) => x.at >= t0 && x.at <= t1);
    const kinds = { old: results.filter((x) => x.rows === oldRows).length, new: results.filter((x) => x.rows === newRows).length };
    const other = results.filter((x) => x.rows !== oldRows && x.rows !== newRows);
    const ok = r.status === 0 && errors.length === 0 && other.length === 0 && kinds.old > 0 && kinds.new > 0 && during.length > 10;
    const detail = `${results.length} reads (${during.length} during the ${t1 - t0} ms load): ${kinds.old} all-old, ${kinds.new} all-new, ${other.length} other, ${errors.length} errors; slowest read ${Math.max(...results.map((x) => x.ms))} ms`;
    tally(AREA, 'fault', 'matcher readers during a refresh', ok, detail);
    console.log(`refresh: ${detail}`);
    expect(other.map((x) => x.rows)).toEqual([]);
    expect(ok, detail).toBe(true);
  });

  it('initial load into an empty database: readers see nothing (not initialized) or everything; those arriving mid-load wait for COMMIT', async () => {
    const db = await fresh();
    const newRows = readerExpectation(1).join('|');
    const rd = readers(db.url, 3);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const r = await run(['load', b1.dir, '--db', db.url], { label: 'readers-initial' });
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    const { results, errors } = await rd.stop();
    const empty = results.filter((x) => x.rows === '').length;
    const full = results.filter((x) => x.rows === newRows).length;
    const other = results.filter((x) => x.rows !== '' && x.rows !== newRows);
    const slowest = Math.max(...results.map((x) => x.ms));
    const ok = r.status === 0 && errors.length === 0 && other.length === 0 && empty > 0 && full > 0;
    const detail = `${results.length} reads: ${empty} empty, ${full} complete, ${other.length} other, ${errors.length} errors${errors.length ? ` (${[...new Set(errors)].join("; ")})` : ""}; slowest read ${slowest} ms (load took ${t1 - t0} ms)`;
    tally(AREA, 'fault', 'matcher readers during the initial load', ok, detail);
    console.log(`initial: ${detail}`);
    expect(ok, detail).toBe(true);
  });
});
