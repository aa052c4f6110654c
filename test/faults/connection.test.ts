import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgBinDir, startCluster, type Cluster } from '../../src/pg/cluster.js';
import { makeGeneration } from './lib/bundles.js';
import { errorLines, run, start, type Run } from './lib/cli.js';
import { clairPart, cloneDb, dropDb, exactDump, logicalDump, query, withDb } from './lib/db.js';
import { startProxy, type Pair, type Proxy, type Rule } from './lib/proxy.js';
import { keepOutput, secret, tally } from './lib/tally.js';

/**
 * Connection faults (README "Reliability and security"): a TCP proxy of our own on 127.0.0.1
 * between the loader and PostgreSQL drops, stalls or refuses the connection at chosen moments
 * (mid-COPY, mid-merge, around COMMIT), the server's own statement and lock timeouts fire, and
 * PostgreSQL is restarted during a load (a dedicated cluster). Every time: the load rolls back
 * (exit 5, or 4 before the transaction) or - when COMMIT had reached the server - reports the
 * committed load, Clair's tables are as before (or a clean load's), and the next run succeeds
 * without waiting for the server to notice the lost session.
 */
const AREA = 'connection faults';
const ROWS = 20_000;
const STATEMENT_TIMEOUT = '2s';
let b1: { dir: string };
let b2: { dir: string; digest: string };
let loadedTpl = '';
let cleanRefresh: Record<string, string>;
let proxy: Proxy;
const dbs: string[] = [];

beforeAll(async () => {
  const g1 = await makeGeneration({ rows: ROWS, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  const g2 = await makeGeneration({ rows: ROWS, generation: 2, created: '2026-01-02T00:00:00Z', mapping: 'excerpt' });
  b1 = g1;
  b2 = { dir: g2.dir, digest: g2.manifest.digest };
  const tpl = await cloneDb('tpl_clair20', 'tpl');
  loadedTpl = tpl.name;
  expect((await run(['load', b1.dir, '--db', tpl.url], { label: 'template' })).status).toBe(0);
  const clean = await cloneDb(loadedTpl);
  expect((await run(['load', b2.dir, '--db', clean.url], { label: 'clean' })).status).toBe(0);
  cleanRefresh = await logicalDump(clean.url);
  await dropDb(clean.name);
  const adminPort = Number(new URL((await import('./lib/db.js')).adminUrl()).port);
  proxy = await startProxy(adminPort);
  const spare = await startProxy(adminPort);
  closedPort = spare.port;
  await spare.close();
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  for (const d of [...dbs, loadedTpl]) if (d) await dropDb(d);
});

/** A port nothing listens on (taken, then released). */
let closedPort = 0;
function withPort(u: string, port: number): string {
  const x = new URL(u);
  x.port = String(port);
  return x.toString();
}

/** A rule for the loader's first connection only (later ones: failure record, COMMIT check). */
function onMain(decide: (p: Pair, chunk: Buffer, text: string) => ReturnType<Rule>): Rule {
  let main: number | undefined;
  return (p, chunk) => {
    main ??= p.id;
    return p.id === main ? decide(p, chunk, chunk.toString('latin1')) : 'forward';
  };
}

/** Bytes after the first occurrence of `marker` in what the client sent. */
function after(marker: string): (p: Pair, text: string) => number {
  let at: number | undefined;
  return (p, text) => {
    if (at === undefined && p.recent.includes(marker)) at = p.up - text.length;
    return at === undefined ? -1 : p.up - at;
  };
}

interface Case {
  name: string;
  rule?: () => Rule;
  /** Before the run: e.g. refuse connections. */
  setup?: () => void | Promise<void>;
  args?: string[];
  /** Through the proxy (default) or straight to the server. */
  direct?: boolean;
  url?: (dbUrl: string) => string;
  empty?: boolean;
  exit: number[];
  message: RegExp;
  /** The load committed despite the fault (COMMIT had reached the server). */
  commits?: boolean;
  /** The run must end within this long (a stall must not hang it). */
  withinMs?: number;
  cleanup?: () => void | Promise<void>;
}

async function check(c: Case): Promise<void> {
  const db = await cloneDb(c.empty ? 'tpl_clair20' : loadedTpl);
  dbs.push(db.name);
  const before = clairPart(await exactDump(db.url));
  proxy.rule = c.rule?.();
  await c.setup?.();
  const url = c.url ? c.url(db.url) : c.direct ? db.url : proxy.url(db.url);
  let r: Run;
  try {
    r = await run(['--verbose', 'load', c.empty ? b1.dir : b2.dir, '--db', url, ...(c.args ?? ['--statement-timeout', STATEMENT_TIMEOUT])], { label: `conn-${c.name}` });
  } finally {
    proxy.rule = undefined;
    proxy.refuse(false);
    await c.cleanup?.();
  }
  // What the server keeps: Clair's tables as before, or (COMMIT reached it) a clean load.
  const state = c.commits ? JSON.stringify(await logicalDump(db.url)) === JSON.stringify(cleanRefresh)
    : JSON.stringify(clairPart(await exactDump(db.url))) === JSON.stringify(before);
  // The next run, straight to the server, with stalled sessions of the old one still held open by
  // the proxy: it must not wait for the server to notice them.
  const t = Date.now();
  const next = await run(['load', c.empty ? b1.dir : b2.dir, '--db', db.url, '--lock-timeout', '60s'], { label: `conn-next-${c.name}` });
  const nextMs = Date.now() - t;
  proxy.dropAll();
  const nextOk = next.status === 0 && (c.commits ? /outcome: unchanged/ : /outcome: loaded/).test(next.stdout) && nextMs < 20_000;
  const errs = errorLines(r);
  const exitOk = c.exit.includes(r.status ?? -1);
  const messageOk = c.exit.includes(0) ? true : errs.length === 1 && c.message.test(errs[0]);
  const timeOk = !c.withinMs || r.ms < c.withinMs;
  const ok = exitOk && messageOk && state && nextOk && timeOk;
  const detail = `exit ${r.status} in ${r.ms} ms (${errs[0] ?? r.stdout.split('\n')[0]}); tables ${state ? 'as expected' : 'WRONG'}; next run exit ${next.status} in ${nextMs} ms`;
  tally(AREA, 'fault', c.name, ok, detail);
  console.log(`${c.name}: ${detail}`);
  expect({ exitOk, messageOk, state, nextOk, timeOk }, `${detail}\n${r.stderr.slice(-1500)}\n${next.stderr.slice(-500)}`).toEqual({ exitOk: true, messageOk: true, state: true, nextOk: true, timeOk: true });
}

describe('connection faults through a TCP proxy', () => {
  const cases: Case[] = [
    {
      name: 'connection refused (proxy accepts and closes at once)', setup: () => proxy.refuse(true),
      exit: [4], message: /error\[DATABASE\]: cannot reach database/,
    },
    {
      name: 'nothing listening on the port', args: [], url: (u) => withPort(u, closedPort), exit: [4],
      message: /error\[DATABASE\]: cannot reach database .*ECONNREFUSED/,
    },
    {
      name: 'connection dropped during migrations (first load)', empty: true,
      rule: () => onMain((_p, _c, text) => (text.includes('CREATE TABLE IF NOT EXISTS load_history') ? 'drop' : 'forward')),
      exit: [4, 5], message: /error\[(DATABASE|LOAD_FAILED)\]: .*(cannot reach|lost the connection)/,
    },
    {
      name: 'connection dropped mid-COPY (1 MB into stage_vuln)',
      rule: () => {
        const since = after('COPY stage_vuln');
        return onMain((p, _c, text) => (since(p, text) > 1_000_000 ? 'drop' : 'forward'));
      },
      exit: [5], message: /error\[LOAD_FAILED\]: load failed and was rolled back: lost the connection to the database during copy:vulnerabilities\/debian%2Fupdater\.csv/,
    },
    {
      name: 'connection dropped mid-merge (insert-vulns running)',
      rule: () => onMain((_p, _c, text) => (text.includes('INSERT INTO vuln (hash_kind') ? 'drop-after-forward' : 'forward')),
      // The cut comes 20 ms after the statement reached the server: a busy machine may let the
      // small refresh insert finish first, so the next merge step is the one that loses it.
      exit: [5], message: /error\[LOAD_FAILED\]: load failed and was rolled back: lost the connection to the database during (insert-vulns|link-vulns)/,
    },
    {
      name: 'connection stalled mid-COPY (--statement-timeout 2s)',
      rule: () => {
        const since = after('COPY stage_vuln');
        return onMain((p, _c, text) => (since(p, text) > 1_000_000 ? 'stall' : 'forward'));
      },
      exit: [5], message: /did not answer for .* during copy:vulnerabilities\/debian%2Fupdater\.csv \(--statement-timeout\)/, withinMs: 15_000,
    },
    {
      name: 'answer withheld mid-merge (insert-vulns ran, its answer stalled)',
      rule: () => onMain((_p, _c, text) => (text.includes('INSERT INTO vuln (hash_kind') ? 'stall-after-forward' : 'forward')),
      exit: [5], message: /did not answer for .* during insert-vulns \(--statement-timeout\)/, withinMs: 15_000,
    },
    {
      name: 'connection dropped before COMMIT reached the server',
      rule: () => onMain((p, _c, text) => (p.recent.includes('outcome, updaters, via') && text.includes('COMMIT\0') ? 'drop' : 'forward')),
      exit: [5], message: /lost the connection to the database during commit/,
    },
    {
      name: 'connection cut after COMMIT reached the server (answer lost)', commits: true,
      rule: () => onMain((p, _c, text) => (p.recent.includes('outcome, updaters, via') && text.includes('COMMIT\0') ? 'mute-and-cut' : 'forward')),
      exit: [0], message: /./,
    },
    {
      name: 'answer to COMMIT stalled (--statement-timeout 2s)', commits: true,
      rule: () => onMain((p, _c, text) => (p.recent.includes('outcome, updaters, via') && text.includes('COMMIT\0') ? 'stall-after-forward' : 'forward')),
      exit: [0], message: /./, withinMs: 20_000,
    },
  ];
  for (const c of cases) it(c.name, () => check(c));

  it('server-side statement timeout: a statement blocked by another session\'s lock is cancelled', async () => {
    let holder: pg.Client | undefined;
    await check({
      name: 'statement_timeout fires (insert-vulns waits for a table lock held elsewhere)', direct: true,
      setup: async () => {
        holder = new pg.Client((await import('./lib/db.js')).urlFor(dbs.at(-1)!));
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE vuln IN SHARE MODE');
      },
      cleanup: async () => {
        await holder?.query('ROLLBACK').catch(() => undefined);
        await holder?.end().catch(() => undefined);
      },
      exit: [5], message: /error\[LOAD_FAILED\]: load failed and was rolled back: sql\/load\/insert-vulns\.sql: canceling statement due to statement timeout/,
    });
  });

  it('lock timeout: another load holds the load lock for longer than --lock-timeout', async () => {
    let holder: pg.Client | undefined;
    await check({
      name: 'lock timeout on the load lock (--lock-timeout 1s)', direct: true, args: ['--lock-timeout', '1s'],
      setup: async () => {
        holder = new pg.Client((await import('./lib/db.js')).urlFor(dbs.at(-1)!));
        await holder.connect();
        await holder.query('SELECT pg_advisory_lock(-7620314175157309118)');
      },
      cleanup: async () => {
        await holder?.end().catch(() => undefined);
      },
      exit: [6], message: /error\[LOCK_BUSY\]: another load holds the lock/,
    });
  });
});

describe('PostgreSQL restarted during a load (dedicated cluster)', () => {
  let cluster: Cluster;
  const run$ = promisify(execFile);
  // pg_ctl restart: with -l, or the new server keeps pg_ctl's stdout (and this promise) open.
  const pgctl = (args: string[]) => (process.getuid?.() === 0
    ? run$('runuser', ['-u', 'postgres', '--', path.join(findPgBinDir(), 'pg_ctl'), ...args])
    : run$(path.join(findPgBinDir(), 'pg_ctl'), args));

  beforeAll(async () => {
    cluster = await startCluster();
    secret(cluster.password);
    await withDb(cluster.url('postgres'), (c) => c.query('CREATE DATABASE tpl'));
    const root = path.resolve(import.meta.dirname, '../..');
    await withDb(cluster.url('tpl'), async (c) => {
      await c.query(await readFile(path.join(root, 'sql/clair-schema/matcher-base.sql'), 'utf8'));
      await c.query(await readFile(path.join(root, 'sql/clair-schema/matcher-upgrade-20.sql'), 'utf8'));
    });
    expect((await run(['load', b1.dir, '--db', cluster.url('tpl')], { label: 'restart-template' })).status).toBe(0);
  }, 180_000);

  afterAll(async () => {
    if (!cluster) return;
    const log = path.join(path.dirname(cluster.dataDir), 'log');
    keepOutput('restart-cluster-server-log', await readFile(log, 'utf8').catch(() => ''));
    await cluster.stop();
  });

  it.each([
    ['with the transaction open right after the COPY of debian/updater', 'copy:vulnerabilities/debian%2Fupdater.csv', 'pause'],
    ['mid-statement: insert-vulns waiting for a table lock', 'insert-vulns', 'lock'],
  ])('restart %s: rolled back (exit 5 or 4), tables as before, the next run loads', async (when, phase, how) => {
    const name = `r_${how}_${phase.replace(/\W/g, '_')}`.toLowerCase().slice(0, 40);
    await withDb(cluster.url('postgres'), (c) => c.query(`CREATE DATABASE ${name} TEMPLATE tpl`));
    const url = cluster.url(name);
    const before = clairPart(await exactDump(url));
    let holder: pg.Client | undefined;
    if (how === 'lock') {
      holder = new pg.Client(url);
      holder.on('error', () => undefined);
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE vuln IN SHARE MODE');
    }
    let restarted: Promise<unknown> | undefined;
    const restart = () => {
      restarted ??= new Promise((r) => setTimeout(r, 300)).then(() => pgctl(['-D', cluster.dataDir, '-l', path.join(path.dirname(cluster.dataDir), 'log'), '-m', 'fast', '-w', '-t', '60', 'restart']));
    };
    const s = start(['--verbose', '--log-format', 'json', 'load', b2.dir, '--db', url], {
      label: `restart-${phase}`,
      // pause: the loader holds still after the phase (transaction open); lock: its statement waits.
      env: how === 'pause' ? { CLAIR_BUNDLE_TEST_PAUSE: `${phase}:5000` } : {},
      onStderrLine: (line) => {
        if (how === 'pause' ? line.includes('"test pause"') : line.includes(`"phase":"${phase}"`)) restart();
      },
    });
    const r = await s.done;
    await restarted;
    await holder?.end().catch(() => undefined);
    const state = JSON.stringify(clairPart(await exactDump(url))) === JSON.stringify(before);
    const next = await run(['load', b2.dir, '--db', url], { label: `restart-next-${phase}` });
    const errs = errorLines(r);
    const ok = [4, 5].includes(r.status ?? -1) && errs.length === 1 && state && next.status === 0 && /outcome: loaded/.test(next.stdout);
    const detail = `exit ${r.status} (${errs[0]}); tables ${state ? 'as before' : 'CHANGED'}; next run exit ${next.status}`;
    tally(AREA, 'fault', `PostgreSQL restarted ${when}`, ok, detail);
    console.log(`restart ${when}: ${detail}`);
    expect(ok, `${detail}\n${r.stderr.slice(-1500)}\n${next.stderr.slice(-800)}`).toBe(true);
  });
});
