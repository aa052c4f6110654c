/**
 * `npm run bench [-- --rows N]`: loader benchmark (issue #8).
 *
 * 1. Generates (or reuses from .cache/bench/) a synthetic bundle of N vulnerability rows and its
 *    1 %-changed variant (bench/generate.ts), streamed through the real bundle writer.
 * 2. Starts a throwaway PostgreSQL (src/pg/cluster.ts) and, on a fresh database with Clair's
 *    matcher schema (sql/clair-schema/matcher-base.sql + matcher-upgrade-20.sql), runs
 *      a  initial load       `clair-bundle load` (the CLI, spawned)
 *      b  reload, same bundle (must take the unchanged fast path)
 *      c  load of the 1 %-changed bundle
 *      d  Clair's GC (bench/gc.ts) with keep = 1, so c superseded a's update operations
 *    then, on another fresh database, the same rows written the way claircore writes them
 *    (bench/baseline.ts): e1 initial, e2 changed, e3 GC; with --claircore (needs Go) also by
 *    claircore v1.5.54's own store code (bench/claircore/main.go): f1, f2, f3.
 *    With --clairctl (needs Go): real `clairctl import-updaters` of Clair v4.9.0 (claircore
 *    v1.5.48, matcher schema 16) on a fresh schema-16 database (matcher-base.sql only): g1 initial,
 *    g2 changed, g3 GC, its input written beforehand by bench/clairctl (not timed); and, for the
 *    ratio, our loader on another fresh schema-16 database: g0a initial, g0c changed, g0d GC.
 * 3. Prints a table and writes bench/results/<date>-<rows>.json with the machine description.
 *
 * Wall time includes the child process start. Memory is sampled every 50 ms (bench/measure.ts).
 * Timing is informative only; nothing here is a pass/fail test.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Manifest } from '../bundle/manifest.js';
import { THREAD_POOL_SIZE } from '../cli/pool-size.cjs';
import { createLogger } from '../log.js';
import { startCluster, type Cluster } from '../pg/cluster.js';
import { PACKAGE_ROOT } from '../version.js';
import { cachedBundles, CHANGE_FRACTION, GENERATOR_VERSION, plan } from './generate.js';
import type { GcResult } from './gc.js';
import { runMeasured, type StepRun } from './measure.js';

const DIST = path.join(PACKAGE_ROOT, 'dist');
const CLI = path.join(DIST, 'cli', 'main.cjs'); // the command's entry point, as installed
const BASELINE = path.join(DIST, 'bench', 'baseline.js');
const GC = path.join(DIST, 'bench', 'gc.js');

const PG_SETTINGS: Record<string, string> = { max_wal_size: '1GB', checkpoint_timeout: '15min' };

interface Args {
  rows: number;
  seed: number;
  changeSeed: number;
  baseline: boolean;
  claircore: boolean;
  clairctl: boolean;
  /** Load as a least-privileged role that may not set session_replication_role (no trusted links). */
  checkedLinks: boolean;
  cache: string;
  results: string;
  write: boolean;
  minFreeGb: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    rows: 9_000_000, seed: 1, changeSeed: 2, baseline: true, claircore: false, clairctl: false, checkedLinks: false,
    cache: path.join(PACKAGE_ROOT, '.cache', 'bench'), results: path.join(PACKAGE_ROOT, 'bench', 'results'), write: true, minFreeGb: 3,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return x;
    };
    switch (argv[i]) {
      case '--rows': a.rows = Number(v().replace(/_/g, '')); break;
      case '--seed': a.seed = Number(v()); break;
      case '--change-seed': a.changeSeed = Number(v()); break;
      case '--no-baseline': a.baseline = false; break;
      case '--claircore': a.claircore = true; break;
      case '--clairctl': a.clairctl = true; break;
      case '--checked-links': a.checkedLinks = true; break;
      case '--no-write': a.write = false; break;
      case '--cache': a.cache = path.resolve(v()); break;
      case '--min-free-gb': a.minFreeGb = Number(v()); break;
      case '--results': a.results = path.resolve(v()); break;
      case '-h': case '--help':
        process.stdout.write('usage: npm run bench -- [--rows N (default 9000000)] [--seed N] [--change-seed N] [--no-baseline] [--claircore] [--clairctl] [--checked-links] [--no-write] [--cache DIR] [--results DIR] [--min-free-gb N (default 3)]\n');
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!Number.isInteger(a.rows) || a.rows < 1000) throw new Error('--rows must be an integer >= 1000');
  return a;
}

const log = createLogger({ level: 'info' });

/** Set in main(): every step stops when the cluster's disk gets this full (the machine is shared). */
let diskGuard: { path: string; minFreeBytes: number } | undefined;

/** Builds bench/claircore (claircore v1.5.54 as a Go module) into the cache; null without Go. */
function buildClaircoreWriter(cache: string): string | null {
  const out = path.join(cache, 'bin', 'claircore-writer');
  try {
    execFileSync('go', ['build', '-o', out, '.'], { cwd: path.join(PACKAGE_ROOT, 'bench', 'claircore'), stdio: ['ignore', 'inherit', 'inherit'] });
    return out;
  } catch (err) {
    log.warn('cannot build bench/claircore; skipping the claircore steps', { error: (err as Error).message });
    return null;
  }
}

/** Clair's matcher schema 20 (claircore v1.5.54+); schema 16 (Clair v4.9.0, claircore v1.5.48) is matcher-base.sql alone. */
const SCHEMA_20 = ['matcher-base.sql', 'matcher-upgrade-20.sql'];
const SCHEMA_16 = ['matcher-base.sql'];

/** The Clair release whose `clairctl import-updaters` --clairctl runs (go.mod: claircore v1.5.48). */
const CLAIR_VERSION = 'v4.9.0';

interface ClairctlTools {
  clairctl: string;
  exporter: string;
  /** from the binary's build info */
  claircore: string;
  go: string;
}

/**
 * Builds real clairctl and bench/clairctl (the export-file writer) into the cache; null without Go.
 * clairctl is built inside Clair's own module as downloaded by `go mod download` (its go.mod and
 * go.sum: the release's dependency versions), which is what `go install …@v4.9.0` does too.
 */
function buildClairctl(cache: string): ClairctlTools | null {
  const clairctl = path.join(cache, 'bin', 'clairctl');
  const exporter = path.join(cache, 'bin', 'clairctl-export');
  try {
    const mod = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `github.com/quay/clair/v4@${CLAIR_VERSION}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { Dir?: string; Error?: string };
    if (!mod.Dir) throw new Error(mod.Error ?? 'go mod download gave no directory');
    execFileSync('go', ['build', '-trimpath', '-o', clairctl, './cmd/clairctl'], { cwd: mod.Dir, stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync('go', ['build', '-o', exporter, '.'], { cwd: path.join(PACKAGE_ROOT, 'bench', 'clairctl'), stdio: ['ignore', 'inherit', 'inherit'] });
    const info = execFileSync('go', ['version', '-m', clairctl], { encoding: 'utf8' });
    return {
      clairctl, exporter,
      claircore: /\tdep\tgithub\.com\/quay\/claircore\t(\S+)/.exec(info)?.[1] ?? 'unknown',
      go: /^\S+: (\S+)/.exec(info)?.[1] ?? 'unknown',
    };
  } catch (err) {
    log.warn('cannot build clairctl or bench/clairctl; skipping the clairctl steps', { error: (err as Error).message });
    return null;
  }
}

/** What bench/clairctl (clairctl-export) prints. */
interface ExportSummary {
  seconds: number;
  bytes: number;
  updaters: number;
  vulnerabilities: number;
  enrichments: number;
  not_vulnerable_left_out: number;
  updaters_without_records: number;
  records_per_updater: Record<string, number>;
  ranges: 'keep' | 'drop' | 'only';
  records_with_range: number;
}

/** clairctl's error, without colours and without the SQL text pgx quotes. */
function clairctlError(stderr: string): string {
  const line = stderr.replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => / ERR /.test(l)) ?? stderr.slice(-300);
  const e = /error="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line;
  return e.replace(/error building query .*?;: /s, 'error building query …: ').replace(/\\[nt]/g, ' ').replace(/\\"/g, '"').slice(0, 600);
}

/** clairctl logs (zerolog console format, maybe coloured) one line per imported or skipped entry. */
function clairctlLog(stderr: string): Record<string, unknown> {
  let imported = 0;
  let skipped = 0;
  let vulns = 0;
  let enrichments = 0;
  const updaters: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    if (line.includes('fingerprint match, skipping')) skipped++;
    if (!line.includes('update imported')) continue;
    imported++;
    vulns += Number(/vuln_count=(\d+)/.exec(line)?.[1] ?? 0);
    enrichments += Number(/enrichment_count=(\d+)/.exec(line)?.[1] ?? 0);
    const u = /updater=(\S+)/.exec(line)?.[1];
    if (u) updaters.push(u);
  }
  return { entries_imported: imported, entries_skipped_fingerprint: skipped, vuln_records: vulns, enrichment_records: enrichments, updaters_imported: updaters.length <= 5 ? updaters : updaters.length };
}

async function schemaSql(files: string[]): Promise<string[]> {
  return Promise.all(files.map((f) => readFile(path.join(PACKAGE_ROOT, 'sql', 'clair-schema', f), 'utf8')));
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'clair-bundle-bench' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function freshClairDb(cluster: Cluster, name: string, schema = SCHEMA_20): Promise<string> {
  await withClient(cluster.url('postgres'), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const url = cluster.url(name);
  await withClient(url, async (c) => {
    for (const s of await schemaSql(schema)) await c.query(s);
  });
  return url;
}

/**
 * README "Least privilege" in this database: Clair's tables owned by a role of their own, the
 * loader a member of it with a schema clair_bundle; no superuser, no SET on
 * session_replication_role. Returns the loader's URL.
 */
async function leastPrivilegedRole(url: string): Promise<string> {
  const password = randomBytes(12).toString('hex');
  await withClient(url, async (c) => {
    await c.query('DROP ROLE IF EXISTS bench_loader');
    await c.query('DROP ROLE IF EXISTS bench_owner');
    await c.query('CREATE ROLE bench_owner NOLOGIN');
    await c.query(`CREATE ROLE bench_loader LOGIN PASSWORD '${password}' IN ROLE bench_owner`);
    const { rows } = await c.query<{ stmt: string }>(`SELECT format('ALTER %s public.%I OWNER TO bench_owner',
      CASE relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, relname) AS stmt
      FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'm')`);
    for (const r of rows) await c.query(r.stmt);
    await c.query('GRANT CREATE ON SCHEMA public TO bench_owner');
    await c.query('CREATE SCHEMA clair_bundle AUTHORIZATION bench_loader');
  });
  const u = new URL(url);
  u.username = 'bench_loader';
  u.password = password;
  return u.toString();
}

async function dropDb(cluster: Cluster, name: string): Promise<void> {
  await withClient(cluster.url('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS ${name}`));
}

/** Database size in bytes; with `checkpoint`, dirty buffers are flushed first so the next step starts clean. */
async function dbSize(url: string, checkpoint = false): Promise<number> {
  return withClient(url, async (c) => {
    if (checkpoint) await c.query('CHECKPOINT');
    return Number((await c.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
  });
}

const COUNTED = ['update_operation', 'vuln', 'uo_vuln', 'enrichment', 'uo_enrich', 'alias', 'vulnerability_alias', 'vulnerability_self'] as const;
/** Row counts of the Clair tables the database has (schema 16 has no alias tables). */
type Counts = Partial<Record<(typeof COUNTED)[number], number>>;

async function counts(url: string): Promise<Counts> {
  return withClient(url, async (c) => {
    const out: Counts = {};
    for (const t of COUNTED) {
      if ((await c.query<{ r: string | null }>('SELECT to_regclass($1) AS r', [t])).rows[0].r === null) continue;
      out[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
    }
    return out;
  });
}

function sameCounts(x: Counts, y: Counts): boolean {
  return COUNTED.every((t) => x[t] === y[t]);
}

/** The tables whose counts differ, as { table: [x, y] }. */
function countDiff(x: Counts, y: Counts): Record<string, [number | undefined, number | undefined]> {
  return Object.fromEntries(COUNTED.filter((t) => x[t] !== y[t]).map((t) => [t, [x[t], y[t]]]));
}

interface Step {
  id: string;
  label: string;
  seconds: number;
  rows: number | null;
  rowsPerSecond: number | null;
  loaderPeakRssMB: number;
  backendPeakRssMB: number;
  backendPeakAnonMB: number;
  dbGrowthMB: number;
  detail: Record<string, unknown>;
}

const MB = (kb: number) => Math.round(kb / 102.4) / 10;

async function step(
  id: string, label: string, url: string, rows: number | null, command: string[], appNames: string[],
  check: (run: StepRun, out: unknown) => Record<string, unknown>, exec?: string[],
): Promise<Step> {
  log.info(`step ${id}: ${label}`);
  const before = await dbSize(url, true);
  const load1 = os.loadavg()[0];
  const [bin, ...argv] = exec ?? [process.execPath, ...command];
  const run = await runMeasured(bin, argv, { monitorDb: url, applicationNames: appNames, disk: diskGuard });
  if (run.exitCode !== 0) {
    throw new Error(`step ${id} failed (exit ${run.exitCode}):\n${run.stderr.slice(-4000)}\n${run.stdout.slice(-2000)}`);
  }
  // null when the step writes no JSON summary (clairctl writes nothing on stdout).
  const out = run.stdout.includes('{') ? JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as unknown : null;
  const detail = { ...check(run, out), load_avg_1m: [Math.round(load1 * 100) / 100, Math.round(os.loadavg()[0] * 100) / 100] };
  const after = await dbSize(url);
  const s: Step = {
    id, label, seconds: run.seconds, rows, rowsPerSecond: rows === null ? null : Math.round(rows / run.seconds),
    loaderPeakRssMB: MB(run.childPeakRss), backendPeakRssMB: MB(run.backendPeakRss), backendPeakAnonMB: MB(run.backendPeakAnon),
    dbGrowthMB: Math.round((after - before) / 1048576), detail,
  };
  log.info(`step ${id} done`, { seconds: s.seconds, rows_per_s: s.rowsPerSecond, loader_mb: s.loaderPeakRssMB, backend_mb: s.backendPeakRssMB, db_growth_mb: s.dbGrowthMB });
  return s;
}

/** The merge steps our loader logged (--log-format json), slowest first. */
function loaderSteps(stderr: string): { step: string; ms: number }[] {
  const steps: { step: string; ms: number }[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; step?: string; file?: string; ms?: number };
      if (j.msg === 'merged' && j.step) steps.push({ step: j.step, ms: j.ms ?? 0 });
      if (j.msg === 'copied' && j.file) steps.push({ step: `copy ${j.file}`, ms: j.ms ?? 0 });
    } catch { /* not a log line */ }
  }
  return steps.sort((a, b) => b.ms - a.ms).slice(0, 8);
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))).size;
  }
  return n;
}

function machine(pgVersion: string) {
  const cpus = os.cpus();
  let kernel = os.release();
  try {
    kernel = execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim();
  } catch { /* keep os.release() */ }
  return {
    cpus: cpus.length, cpu_model: cpus[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    kernel, node: process.version, postgres: pgVersion,
    // The loader's thread pool: the entry point's default (src/cli/pool-size.cts) unless the environment sets it.
    loader_env: { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? THREAD_POOL_SIZE },
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function table(steps: Step[]): string {
  const head = ['step', 'seconds', 'rows/s', 'loader RSS MB', 'PG backend HWM MB', 'PG backend anon MB', 'DB growth MB'];
  const lines = steps.map((s) => [
    `${s.id}  ${s.label}`, s.seconds.toFixed(1), s.rowsPerSecond === null ? '–' : s.rowsPerSecond.toLocaleString('en-US'),
    String(s.loaderPeakRssMB), String(s.backendPeakRssMB), String(s.backendPeakAnonMB), String(s.dbGrowthMB),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => pad(c, widths[i], i > 0)).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? Math.round((a / b) * 1000) / 1000 : null;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const bundles = await cachedBundles(args.cache, args.rows, args.seed, args.changeSeed, log);
  const base = JSON.parse(await readFile(path.join(bundles.base, 'manifest.json'), 'utf8')) as Manifest;
  const changed = JSON.parse(await readFile(path.join(bundles.changed, 'manifest.json'), 'utf8')) as Manifest;
  const vulnRows = base.updaters.filter((u) => u.kind === 'vulnerability').reduce((n, u) => n + u.rows, 0);
  const enrichRows = base.updaters.filter((u) => u.kind === 'enrichment').reduce((n, u) => n + u.rows, 0);
  const aliasRows = base.updaters.reduce((n, u) => n + (u.aliases?.rows ?? 0), 0);
  const changedUpdaters = changed.updaters.filter((u) => base.updaters.find((b) => b.name === u.name)?.fingerprint !== u.fingerprint);
  const changedRows = changedUpdaters.reduce((n, u) => n + u.rows, 0);
  const allRows = vulnRows + enrichRows;

  const cluster = await startCluster({ settings: PG_SETTINGS });
  diskGuard = { path: cluster.dataDir, minFreeBytes: args.minFreeGb * 2 ** 30 };
  const results: Step[] = [];
  // Each step as it ends: a line on stderr and the steps so far in <date>-<rows>.partial.json, so a
  // long run stopped early still leaves its figures (the final report replaces the partial file).
  const partialFile = path.join(args.results, `${new Date().toISOString().slice(0, 10)}-${args.rows}.partial.json`);
  const record = async (s: Step) => {
    results.push(s);
    process.stderr.write(`bench: step ${s.id} ${s.label}: ${s.seconds} s, loader RSS ${s.loaderPeakRssMB} MB\n`);
    if (args.write) {
      await mkdir(args.results, { recursive: true });
      await writeFile(partialFile, JSON.stringify({ partial: true, rows: args.rows, machine: machine(pgVersion), steps: results }, null, 2) + '\n');
    }
  };
  const parity: Record<string, { ours: Counts; baseline?: Counts; equal?: boolean; claircore?: Counts; equal_claircore?: boolean }> = {};
  // Schema 16 (--clairctl): ours (g0a/g0c/g0d) against real clairctl (g1/g2/g3); differences = { table: [ours, clairctl] }.
  const parity16: Record<string, { ours: Counts; clairctl?: Counts; equal?: boolean; differences?: Record<string, unknown> }> = {};
  let clairctlInfo: Record<string, unknown> | null = null;
  let pgVersion = '';
  let pgSettings: Record<string, string> = {};
  try {
    await withClient(cluster.url('postgres'), async (c) => {
      pgVersion = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
      const names = ['shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_wal_size', 'fsync', 'synchronous_commit', 'full_page_writes'];
      pgSettings = Object.fromEntries((await c.query<{ name: string; setting: string; unit: string | null }>('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names])).rows.map((r) => [r.name, r.setting + (r.unit ?? '')]));
    });

    // ---- ours
    const ours = await freshClairDb(cluster, 'bench_ours');
    // --checked-links: the loader connects as README "Least privilege"'s role, which may not set
    // session_replication_role, so every link row goes through PostgreSQL's foreign-key triggers.
    const loaderUrl = args.checkedLinks ? await leastPrivilegedRole(ours) : ours;
    const load = (bundle: string) => [CLI, '--log-format', 'json', 'load', bundle, '--db', loaderUrl, '--json'];
    type Summary = { outcome: string; trustedLinks?: boolean; updaters: { name: string; action: string; inserted: number; linked: number }[] };
    const summaryDetail = (run: StepRun, out: unknown) => {
      const s = out as Summary;
      const loaded = s.updaters.filter((u) => u.action === 'loaded');
      return {
        outcome: s.outcome, trusted_links: s.trustedLinks, updaters_loaded: loaded.length,
        inserted: loaded.reduce((n, u) => n + u.inserted, 0), linked: loaded.reduce((n, u) => n + u.linked, 0),
        slowest_steps: loaderSteps(run.stderr),
      };
    };
    await record(await step('a', 'initial load (clair-bundle)', ours, allRows, load(bundles.base), ['clair-bundle'], summaryDetail));
    parity.a = { ours: await counts(ours) };
    await record(await step('b', 'reload same bundle (clair-bundle)', ours, allRows, load(bundles.base), ['clair-bundle'], (run, out) => {
      const d = summaryDetail(run, out);
      if (d.outcome !== 'unchanged') throw new Error(`step b: expected the unchanged fast path, got outcome ${String(d.outcome)}`);
      return d;
    }));
    await record(await step('c', `load ${CHANGE_FRACTION * 100} % changed (clair-bundle)`, ours, changedRows, load(bundles.changed), ['clair-bundle'], summaryDetail));
    parity.c = { ours: await counts(ours) };
    await record(await step('d', 'Clair GC keep=1 (after clair-bundle)', ours, null, [GC, '--db', ours, '--keep', '1'], ['clair-gc'], (_r, out) => ({ ...(out as GcResult) })));
    parity.d = { ours: await counts(ours) };
    await dropDb(cluster, 'bench_ours');

    // ---- baseline
    if (args.baseline) {
      const bl = await freshClairDb(cluster, 'bench_baseline');
      const names = ['clair-bundle-baseline', 'clair-bundle-baseline-side'];
      const blDetail = (_r: StepRun, out: unknown) => {
        const o = out as { updaters: { updater: string; action: string; statements: number; aliasPairs: number; seconds: number }[] };
        const loaded = o.updaters.filter((u) => u.action === 'loaded');
        return {
          updaters_loaded: loaded.length, statements: loaded.reduce((n, u) => n + u.statements, 0),
          alias_pairs: loaded.reduce((n, u) => n + u.aliasPairs, 0),
          slowest_updaters: [...loaded].sort((x, y) => y.seconds - x.seconds).slice(0, 3).map((u) => ({ updater: u.updater, seconds: u.seconds })),
        };
      };
      await record(await step('e1', 'initial, claircore-style', bl, allRows, [BASELINE, '--db', bl, bundles.base], names, blDetail));
      parity.a.baseline = await counts(bl);
      await record(await step('e2', `${CHANGE_FRACTION * 100} % changed, claircore-style`, bl, changedRows, [BASELINE, '--db', bl, bundles.changed], names, blDetail));
      parity.c.baseline = await counts(bl);
      await record(await step('e3', 'Clair GC keep=1 (after claircore-style)', bl, null, [GC, '--db', bl, '--keep', '1'], ['clair-gc'], (_r, out) => ({ ...(out as GcResult) })));
      parity.d.baseline = await counts(bl);
      await dropDb(cluster, 'bench_baseline');
      for (const p of Object.values(parity)) p.equal = COUNTED.every((t) => p.ours[t] === p.baseline![t]);
    }

    // ---- claircore's own store code (Go)
    const writer = args.claircore ? buildClaircoreWriter(args.cache) : null;
    if (writer) {
      const cc = await freshClairDb(cluster, 'bench_claircore');
      const ccDetail = (_r: StepRun, out: unknown) => {
        const o = out as { updaters: { updater: string; action: string; seconds: number }[] };
        const loaded = o.updaters.filter((u) => u.action === 'loaded');
        return { updaters_loaded: loaded.length, slowest_updaters: [...loaded].sort((x, y) => y.seconds - x.seconds).slice(0, 3).map((u) => ({ updater: u.updater, seconds: u.seconds })) };
      };
      const names = ['clair-bundle-claircore'];
      await record(await step('f1', 'initial, claircore v1.5.54 store', cc, allRows, [], names, ccDetail, [writer, '--db', cc, bundles.base]));
      parity.a.claircore = await counts(cc);
      await record(await step('f2', `${CHANGE_FRACTION * 100} % changed, claircore store`, cc, changedRows, [], names, ccDetail, [writer, '--db', cc, bundles.changed]));
      parity.c.claircore = await counts(cc);
      await record(await step('f3', 'Clair GC keep=1 (after claircore store)', cc, null, [GC, '--db', cc, '--keep', '1'], ['clair-gc'], (_r, out) => ({ ...(out as GcResult) })));
      parity.d.claircore = await counts(cc);
      await dropDb(cluster, 'bench_claircore');
      for (const p of Object.values(parity)) p.equal_claircore = COUNTED.every((t) => p.ours[t] === p.claircore![t]);
    }

    // ---- real clairctl import-updaters (Clair v4.9.0, schema 16), and ours on schema 16 for the ratio
    const tools = args.clairctl ? buildClairctl(args.cache) : null;
    if (tools) {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-bench-clairctl-'));
      try {
        // Preparation, not part of clairctl's time: the files export-updaters would have written.
        type Exported = ExportSummary & { file: string; wall_seconds: number; peak_rss_mb: number };
        const exported: Partial<Record<'range_probe' | 'base' | 'changed', Exported>> = {};
        const writeExport = async (k: 'range_probe' | 'base' | 'changed', dir: string, ranges: ExportSummary['ranges']): Promise<Exported> => {
          const file = path.join(tmp, `${k}.json`);
          log.info(`clairctl input: writing an export-updaters file (${k}, ranges ${ranges})`);
          const run = await runMeasured(tools.exporter, ['--ranges', ranges, '--out', file, dir], { monitorDb: cluster.url('postgres'), applicationNames: [], env: { ...process.env, TMPDIR: tmp }, disk: diskGuard });
          if (run.exitCode !== 0) throw new Error(`clairctl-export failed (exit ${run.exitCode}):\n${run.stderr.slice(-4000)}`);
          return (exported[k] = { ...(JSON.parse(run.stdout) as ExportSummary), file, wall_seconds: run.seconds, peak_rss_mb: MB(run.childPeakRss) });
        };
        // clairctl reads matcher.connstring from its config file (JSON or YAML); the file holds the
        // password, so it lives in the run's private temp dir and is never printed.
        const clairctlConfig = async (db: string): Promise<string> => {
          const dsn = new URL(cluster.url(db));
          dsn.searchParams.set('application_name', 'clair-bundle-clairctl');
          const config = path.join(tmp, `clairctl-${db}.json`);
          await writeFile(config, JSON.stringify({ matcher: { connstring: dsn.toString() } }) + '\n', { mode: 0o600 });
          return config;
        };
        const ctl = (config: string, file: string) => [tools.clairctl, '--config', config, 'import-updaters', file];

        // Can this clairctl store records with a version range at all? (v4.9.0 cannot: its pool has
        // no versionrange codec.) Only the bundle's records with a range, into a scratch database.
        const probe = await writeExport('range_probe', bundles.base, 'only');
        let rangeProbe: Record<string, unknown> = { records_with_range: probe.records_with_range };
        if (probe.records_with_range > 0) {
          const pdb = await freshClairDb(cluster, 'bench_clairctl_probe', SCHEMA_16);
          const [bin, ...argv] = ctl(await clairctlConfig('bench_clairctl_probe'), probe.file);
          const run = await runMeasured(bin, argv, { monitorDb: pdb, applicationNames: ['clair-bundle-clairctl'], disk: diskGuard });
          rangeProbe = { ...rangeProbe, exit_code: run.exitCode, imported: clairctlLog(run.stderr), error: run.exitCode === 0 ? null : clairctlError(run.stderr) };
          await dropDb(cluster, 'bench_clairctl_probe');
          log.info('clairctl range probe', { exit_code: run.exitCode });
        }
        // If it cannot, g1/g2 get every record, those with a range without it (same records and
        // statements; their vuln rows hash differently). Otherwise the plain export.
        const rangesMode = rangeProbe.exit_code === undefined || rangeProbe.exit_code === 0 ? 'keep' : 'drop';
        const base16 = await writeExport('base', bundles.base, rangesMode);
        const changed16 = await writeExport('changed', bundles.changed, rangesMode);
        const rows16 = base16.vulnerabilities + base16.enrichments;
        const changedRows16 = changedUpdaters.reduce((n, u) => n + (changed16.records_per_updater[u.name] ?? 0), 0);
        clairctlInfo = {
          clair: CLAIR_VERSION, claircore: tools.claircore, built_with: tools.go, schema: 16,
          input: 'uncompressed JSON lines in the export-updaters format, written by claircore v1.5.48 libvuln/jsonblob (bench/clairctl)',
          range_probe: rangeProbe, ranges_in_g_input: rangesMode,
          export: Object.fromEntries(Object.entries(exported).map(([k, v]) => {
            const { file: _file, records_per_updater: _per, ...rest } = v;
            return [k, rest];
          })),
        };

        const o16 = await freshClairDb(cluster, 'bench_ours16', SCHEMA_16);
        const load16 = (bundle: string) => [CLI, '--log-format', 'json', 'load', bundle, '--db', o16, '--json'];
        const withNotes = (run: StepRun, out: unknown) => ({ ...summaryDetail(run, out), notes: (out as { notes?: string[] }).notes });
        await record(await step('g0a', 'initial, clair-bundle on schema 16', o16, rows16, load16(bundles.base), ['clair-bundle'], withNotes));
        parity16.initial = { ours: await counts(o16) };
        await record(await step('g0c', `${CHANGE_FRACTION * 100} % changed, clair-bundle on schema 16`, o16, changedRows16, load16(bundles.changed), ['clair-bundle'], withNotes));
        parity16.changed = { ours: await counts(o16) };
        await record(await step('g0d', 'Clair GC keep=1 (after clair-bundle, schema 16)', o16, null, [GC, '--db', o16, '--keep', '1'], ['clair-gc'], (_r, out) => ({ ...(out as GcResult) })));
        parity16.gc = { ours: await counts(o16) };
        await dropDb(cluster, 'bench_ours16');

        const cc = await freshClairDb(cluster, 'bench_clairctl', SCHEMA_16);
        const config = await clairctlConfig('bench_clairctl');
        const ctlDetail = (run: StepRun) => clairctlLog(run.stderr);
        const names = ['clair-bundle-clairctl'];
        await record(await step('g1', `initial, clairctl import-updaters (Clair ${CLAIR_VERSION})`, cc, rows16, [], names, ctlDetail, ctl(config, base16.file)));
        parity16.initial.clairctl = await counts(cc);
        await record(await step('g2', `${CHANGE_FRACTION * 100} % changed, clairctl import-updaters`, cc, changedRows16, [], names, ctlDetail, ctl(config, changed16.file)));
        parity16.changed.clairctl = await counts(cc);
        await record(await step('g3', 'Clair GC keep=1 (after clairctl)', cc, null, [GC, '--db', cc, '--keep', '1'], ['clair-gc'], (_r, out) => ({ ...(out as GcResult) })));
        parity16.gc.clairctl = await counts(cc);
        await dropDb(cluster, 'bench_clairctl');
        for (const p of Object.values(parity16)) {
          p.equal = sameCounts(p.ours, p.clairctl!);
          if (!p.equal) p.differences = countDiff(p.ours, p.clairctl!);
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
  } finally {
    await cluster.stop();
  }

  const by = (id: string) => results.find((s) => s.id === id);
  const ratios: Record<string, Record<string, number | null>> = {};
  for (const [name, o, b] of [
    ['a/e1 initial, vs baseline', 'a', 'e1'], ['c/e2 changed, vs baseline', 'c', 'e2'], ['d/e3 gc, vs baseline', 'd', 'e3'],
    ['a/f1 initial, vs claircore store', 'a', 'f1'], ['c/f2 changed, vs claircore store', 'c', 'f2'], ['d/f3 gc, vs claircore store', 'd', 'f3'],
    ['g0a/g1 initial, vs clairctl (schema 16)', 'g0a', 'g1'], ['g0c/g2 changed, vs clairctl (schema 16)', 'g0c', 'g2'], ['g0d/g3 gc, vs clairctl (schema 16)', 'g0d', 'g3'],
  ] as const) {
    const x = by(o);
    const y = by(b);
    if (!x || !y) continue;
    ratios[name] = {
      seconds: ratio(x.seconds, y.seconds), loader_rss: ratio(x.loaderPeakRssMB, y.loaderPeakRssMB),
      backend_rss: ratio(x.backendPeakRssMB, y.backendPeakRssMB), backend_anon: ratio(x.backendPeakAnonMB, y.backendPeakAnonMB),
      db_growth: ratio(x.dbGrowthMB, y.dbGrowthMB),
    };
  }
  const p = plan(args.rows);
  const report = {
    date: new Date().toISOString(),
    rows: args.rows,
    generator: { version: GENERATOR_VERSION, seed: args.seed, change_seed: args.changeSeed, change_fraction: CHANGE_FRACTION, generated_seconds: bundles.generatedSeconds },
    machine: { ...machine(pgVersion), pg_settings: pgSettings },
    bundle: {
      vuln_rows: vulnRows, rhel_vex_rows: p.rhel, other_vuln_rows: vulnRows - p.rhel, alias_rows: aliasRows, enrichment_rows: enrichRows,
      updaters: base.updaters.length, changed_updaters: changedUpdaters.map((u) => u.name), changed_updater_rows: changedRows,
      bytes: await dirBytes(bundles.base),
    },
    notes: [
      'rows/s = bundle rows (vuln + enrichment) / wall seconds for a, b, e1; rows of the changed updaters for c, e2.',
      args.checkedLinks
        ? 'clair-bundle loaded as a least-privileged role (--checked-links): every link row went through PostgreSQL\'s foreign-key triggers.'
        : 'clair-bundle loaded as the cluster\'s superuser: trusted links (no per-row foreign-key triggers; detail.trusted_links); --checked-links measures the other path.',
      'Wall seconds include spawning the process (node start, bundle verification for clair-bundle).',
      'loader RSS = VmHWM of the spawned process; PG backend HWM = VmHWM of the backend(s) found by application_name (includes touched shared buffers); anon = peak RssAnon sampled every 50 ms.',
      'DB growth = pg_database_size after - before; a CHECKPOINT runs before every step (not timed). GC frees space inside the files, so it shows ~0.',
      'load_avg_1m (before, after) per step: other work on the machine skews wall times; compare runs made under similar load.',
      'GC runs with keep=1 (Clair enforces >= 2) so that the update operations superseded in c are eligible, as after retention+1 loads.',
      'claircore steps (f*, --claircore): bench/claircore/main.go hands the bundle rows to claircore v1.5.54 MatcherStore.UpdateVulnerabilitiesIter / UpdateEnrichmentsIter (what clairctl import-updaters calls), with its fingerprint skip; claircore computes the hashes itself.',
      clairctlInfo
        ? `clairctl steps (g*, --clairctl): real \`clairctl import-updaters\` of Clair ${CLAIR_VERSION} (claircore ${String(clairctlInfo.claircore)}), built from Clair's own module, on a fresh database with matcher schema 16 (matcher-base.sql only; clairctl never migrates). Its input, one uncompressed export-updaters file per bundle, is written beforehand by bench/clairctl with claircore v1.5.48's jsonblob store (one update operation per manifest updater, the manifest's fingerprint); that preparation is not in g1/g2 (clairctl.export has its time). claircore v1.5.48 has no aliases and no "not vulnerable" records: those are left out of the file, as our loader leaves them out on schema 16; rows/s for g* counts the records loaded. Records with a version range: clairctl connects with a plain pgxpool, without claircore's versionrange codec; a probe imports only those records into a scratch database first (clairctl.range_probe). When it fails, g1/g2 get those records without their range (clairctl.ranges_in_g_input = drop): the same records and statements, but their vuln rows hash differently from ours and match every version. g0a/g0c/g0d are our loader on another fresh schema-16 database, for the ratios g0*/g*. clairctl v1.5.48 checks fingerprints against vulnerability update operations only, so g2 imports the unchanged enrichment updater again (one more update_operation and its uo_enrich rows than ours until GC).`
        : 'Real clairctl (Clair v4.9.0 = claircore v1.5.48, schema 16) was not run (--clairctl runs it).',
      'Baseline: bench/baseline.ts — claircore v1.5.54 statements, pipelined batches of 1000 statements (one Sync per batch), one transaction per updater, import-updaters fingerprint skip; hashes read from the bundle, alias links sent in chunks of 100k pairs. Its client is Node, not Go: compare its RSS with care.',
    ],
    steps: results,
    ratios_ours_over_other: ratios,
    parity_row_counts: parity,
    ...(clairctlInfo ? { clairctl: clairctlInfo, parity_row_counts_schema16: parity16 } : {}),
    total_seconds: (Date.now() - t0) / 1000,
  };

  process.stdout.write(`\nclair-bundle bench — ${args.rows.toLocaleString('en-US')} vuln rows (${p.rhel.toLocaleString('en-US')} rhel-vex, ${aliasRows.toLocaleString('en-US')} alias rows, ${enrichRows.toLocaleString('en-US')} enrichments), ${report.machine.cpus} cores, ${report.machine.memory_gb} GB, PostgreSQL ${pgVersion}\n\n`);
  process.stdout.write(table(results) + '\n\n');
  for (const [name, r] of Object.entries(ratios)) {
    process.stdout.write(`ratio ${name}: ${Object.entries(r).map(([k, v]) => `${k} ${v ?? '–'}`).join(', ')}\n`);
  }
  for (const [k, v] of Object.entries(parity)) {
    if (v.equal !== undefined) process.stdout.write(`row counts after ${k} equal to baseline: ${v.equal ? 'yes' : 'NO ' + JSON.stringify(v)}\n`);
    if (v.equal_claircore !== undefined) process.stdout.write(`row counts after ${k} equal to claircore: ${v.equal_claircore ? 'yes' : 'NO ' + JSON.stringify(v)}\n`);
  }
  for (const [k, v] of Object.entries(parity16)) {
    if (v.equal !== undefined) process.stdout.write(`schema 16, row counts after ${k} (ours vs clairctl) equal: ${v.equal ? 'yes' : 'NO ' + JSON.stringify(v.differences)}\n`);
  }
  if (args.write) {
    await mkdir(args.results, { recursive: true });
    const file = path.join(args.results, `${report.date.slice(0, 10)}-${args.rows}.json`);
    await writeFile(file, JSON.stringify(report, null, 2) + '\n');
    await rm(partialFile, { force: true });
    process.stdout.write(`\nwritten ${path.relative(process.cwd(), file)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
