import path from 'node:path';
import pg from 'pg';
import { migrate } from 'postgres-migrations';
import { verifyBundle } from '../bundle/verify.js';
import { verifySignature } from '../bundle/signature.js';
import type { Manifest } from '../bundle/manifest.js';
import { AppError, LoadFailedError, RefusedError } from '../errors.js';
import type { Logger } from '../log.js';
import { MIGRATIONS_DIR } from '../sql.js';
import { classifyDbError, copyFile, runSql, StatementError } from './db.js';
import { copyStatement, dataCopies, mergeSteps, MANIFEST_COPY } from './plan.js';

export interface LoadOptions {
  bundle: string;
  connection: pg.ClientConfig;
  /** user@host:port/db for messages (never the password). */
  target: string;
  dryRun?: boolean;
  allowOlder?: boolean;
  noWait?: boolean;
  /** Milliseconds to wait for the global lock and Clair's updater locks. */
  lockTimeoutMs?: number;
  /** Refuse the bundle unless manifest.json.sig verifies with this public key (PEM). */
  publicKey?: string;
  /** Aborting cancels the running statement and rolls the load back (SIGTERM). */
  signal?: AbortSignal;
  log: Logger;
}

export interface UpdaterResult {
  name: string;
  kind: string;
  action: 'loaded' | 'unchanged';
  uo: number | null;
  rows: number;
  inserted: number;
  linked: number;
  left_out: number;
}

export interface LoadSummary {
  outcome: 'loaded' | 'unchanged' | 'dry-run';
  digest: string;
  created: string;
  schemaVersion: number;
  historyId: number | null;
  updaters: UpdaterResult[];
  /** Notes for the administrator (e.g. records left out for an older schema). */
  notes: string[];
  seconds: number;
}

interface Features {
  schema_version: number;
  has_aliases: boolean;
  has_not_vulnerable: boolean;
}

/**
 * Test-only fault hook (README "Reliability and security"): CLAIR_BUNDLE_TEST_PAUSE=<phase>:<ms>[,…]
 * makes the loader wait that long right after finishing a phase, so a fault-injection test can
 * kill it or cut its connection between two phases. Inert when the variable is unset.
 */
export function testPauses(value = process.env.CLAIR_BUNDLE_TEST_PAUSE): Map<string, number> {
  const pauses = new Map<string, number>();
  for (const item of (value ?? '').split(',')) {
    const i = item.lastIndexOf(':');
    if (i > 0 && Number(item.slice(i + 1)) > 0) pauses.set(item.slice(0, i), Number(item.slice(i + 1)));
  }
  return pauses;
}

/**
 * The load's phases, in order (verify, connect, check-schema, migrate, lock, decide, begin,
 * lock-updaters, create-staging, plan-updaters, copy:<file>…, each merge step, record-load,
 * commit): each one is announced with a debug log line `phase` before it starts.
 */
class Phases {
  current = '';
  private readonly pauses = testPauses();
  constructor(private readonly log: Logger) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.current = name;
    this.log.debug('phase', { phase: name });
    const result = await fn();
    const pause = this.pauses.get(name);
    if (pause) {
      this.log.debug('test pause', { phase: name, ms: pause });
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return result;
  }
}

async function connect(opts: LoadOptions): Promise<pg.Client> {
  const client = new pg.Client(opts.connection);
  client.on('error', () => undefined); // surfaced through the failing query instead
  try {
    await client.connect();
  } catch (err) {
    throw classifyDbError(err, opts.target);
  }
  // PostgreSQL >= 14: notice a vanished loader (SIGKILL) mid-statement and roll back at once.
  await client.query("SET client_connection_check_interval = '2s'").catch(() => undefined);
  // Staging tables are temporary: give them more than the default 8 MB of local buffers (must be
  // set before the session's first temporary table).
  await client.query("SET temp_buffers = '256MB'").catch(() => undefined);
  return client;
}

/** Our schema through postgres-migrations, on this client with search_path = clair_bundle. */
async function applyMigrations(client: pg.Client): Promise<void> {
  await client.query('CREATE SCHEMA IF NOT EXISTS clair_bundle');
  await client.query('SET search_path TO clair_bundle');
  try {
    await migrate({ client }, MIGRATIONS_DIR, { logger: () => undefined });
  } finally {
    await client.query('RESET search_path');
  }
}

function notesFor(manifest: Manifest, features: Features, results: UpdaterResult[]): string[] {
  const notes: string[] = [];
  const leftOut = results.reduce((n, u) => n + u.left_out, 0);
  if (leftOut > 0) {
    notes.push(`${leftOut} "not vulnerable" records left out: Clair's schema ${features.schema_version} has no vuln.not_vulnerable (needs 18, claircore >= 1.5.53)`);
  }
  const aliasRows = manifest.updaters.reduce((n, u) => n + (u.aliases?.rows ?? 0), 0);
  if (!features.has_aliases && aliasRows > 0) {
    notes.push(`${aliasRows} alias rows left out: Clair's schema ${features.schema_version} has no alias tables (needs 17)`);
  }
  return notes;
}

function toResults(rows: unknown): UpdaterResult[] {
  return ((rows as UpdaterResult[] | null) ?? []).map((u) => ({ ...u, uo: u.uo === null ? null : Number(u.uo) }));
}

/**
 * Loads a bundle into Clair's matcher database (contract §5): verify, check the schema, apply
 * our migrations, lock, fast path for an unchanged bundle, anti-rollback, then one transaction
 * of COPY into staging tables and set-based merges.
 */
export async function loadBundle(opts: LoadOptions): Promise<LoadSummary> {
  const started = Date.now();
  const log = opts.log;
  const phases = new Phases(log);
  const { manifest } = await phases.run('verify', async () => {
    const verified = await verifyBundle(opts.bundle);
    if (opts.publicKey) {
      await verifySignature(opts.bundle, opts.publicKey);
      log.info('signature verified', { key: path.basename(opts.publicKey) });
    }
    return verified;
  });
  log.info('bundle verified', { digest: manifest.digest.slice(0, 12), updaters: manifest.updaters.length, created: manifest.created });
  const client = await phases.run('connect', () => connect(opts));
  const seconds = () => (Date.now() - started) / 1000;
  let inTransaction = false;
  const onAbort = () => {
    log.warn('stopping: cancelling the load and rolling back');
    void cancel(opts.connection, client);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let features: Features;
    try {
      features = await phases.run('check-schema', async () => {
        await runSql(client, 'check-schema');
        return (await runSql<Features>(client, 'detect-schema'))[0];
      });
      await phases.run('migrate', () => applyMigrations(client));
      await phases.run('lock', async () => {
        await client.query(`SET lock_timeout = ${opts.noWait ? 1 : Math.max(1, Math.floor(opts.lockTimeoutMs ?? 600_000))}`);
        await runSql(client, 'lock-load');
      });
    } catch (err) {
      throw classifyDbError(err instanceof StatementError ? err.pgError : err, opts.target);
    }
    log.info('schema', { version: features.schema_version, aliases: features.has_aliases, not_vulnerable: features.has_not_vulnerable });
    const decision = await phases.run('decide', async () => {
      await runSql(client, 'stage-manifest');
      await copyFile(client, copyStatement(MANIFEST_COPY), path.join(opts.bundle, MANIFEST_COPY.file));
      await runSql(client, 'stage-run', {
        via: 'clair-bundle', allow_older: !!opts.allowOlder,
        has_aliases: features.has_aliases, has_not_vulnerable: features.has_not_vulnerable,
      });
      return (await runSql<{ decision: string; newest_loaded: Date | null }>(client, 'decide'))[0];
    });
    const base = { digest: manifest.digest, created: manifest.created, schemaVersion: features.schema_version };
    if (decision.decision === 'unchanged' && !opts.dryRun) {
      const [row] = await phases.run('record-outcome', () => runSql<{ id: string }>(client, 'record-outcome', { outcome: 'unchanged', error: '' }));
      return { ...base, outcome: 'unchanged', historyId: Number(row.id), updaters: [], notes: [], seconds: seconds() };
    }
    if (decision.decision === 'refused') {
      const message = `refused: bundle created ${manifest.created} is older than the newest one loaded (${decision.newest_loaded?.toISOString()})`;
      if (!opts.dryRun) await phases.run('record-outcome', () => runSql(client, 'record-outcome', { outcome: 'refused', error: message }));
      throw new RefusedError(message, { hint: 'use --allow-older to load it anyway' });
    }

    await phases.run('begin', () => client.query('BEGIN'));
    inTransaction = true;
    try {
      await phases.run('lock-updaters', () => runSql(client, 'lock-updaters'));
    } catch (err) {
      throw classifyDbError(err instanceof StatementError ? err.pgError : err, opts.target);
    }
    await phases.run('create-staging', () => runSql(client, 'create-staging'));
    const changed = await phases.run('plan-updaters', async () => {
      await runSql(client, 'plan-updaters');
      return new Set((await client.query<{ name: string }>('SELECT name FROM stage_plan WHERE changed')).rows.map((r) => r.name));
    });
    log.info('plan', { changed: changed.size, unchanged: manifest.updaters.length - changed.size });
    for (const step of dataCopies(manifest)) {
      if (step.updater && !changed.has(step.updater)) continue;
      const t = Date.now();
      const rows = await phases.run(`copy:${step.file}`, async () => {
        const n = await copyFile(client, copyStatement(step), path.join(opts.bundle, ...step.file.split('/')));
        if (step.mapping) await runSql(client, 'name-mapping', { mapping_name: step.mapping });
        return n;
      });
      log.info('copied', { file: step.file, rows, ms: Date.now() - t });
      stopIfAborted(opts.signal);
    }
    if (opts.dryRun) {
      const plan = await phases.run('dry-run', () => runSql<{ name: string; kind: string; changed: boolean; row_count: string; to_insert: string; to_link: string }>(client, 'dry-run'));
      await client.query('ROLLBACK');
      inTransaction = false;
      return {
        ...base, outcome: 'dry-run', historyId: null, notes: [], seconds: seconds(),
        updaters: plan.map((p) => ({
          name: p.name, kind: p.kind, action: p.changed ? 'loaded' : 'unchanged', uo: null, rows: Number(p.row_count),
          inserted: Number(p.to_insert), linked: Number(p.to_link), left_out: 0,
        })),
      };
    }
    for (const name of mergeSteps({ hasAliases: features.has_aliases, hasNotVulnerable: features.has_not_vulnerable })) {
      const t = Date.now();
      await phases.run(name, () => runSql(client, name));
      log.info('merged', { step: name, ms: Date.now() - t });
      stopIfAborted(opts.signal);
    }
    const [history] = await phases.run('record-load', () => runSql<{ id: string; outcome: 'loaded' | 'unchanged'; updaters: unknown }>(client, 'record-load'));
    await phases.run('commit', () => client.query('COMMIT'));
    inTransaction = false;
    const updaters = toResults(history.updaters);
    return {
      ...base, outcome: history.outcome, historyId: Number(history.id), updaters,
      notes: notesFor(manifest, features, updaters), seconds: seconds(),
    };
  } catch (err) {
    if (inTransaction) await client.query('ROLLBACK').catch(() => undefined);
    const failure = err instanceof AppError ? err : new LoadFailedError(
      opts.signal?.aborted ? 'load stopped by a signal and rolled back' : `load failed and was rolled back: ${(err as Error).message}`, { cause: err });
    if (failure instanceof LoadFailedError) await recordFailure(opts, client, manifest, failure.message, new Date(started));
    throw failure;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LoadFailedError('load stopped by a signal and rolled back');
}

/** pg_cancel_backend from a second connection: the running statement fails, then we roll back. */
async function cancel(config: pg.ClientConfig, client: pg.Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (!pid) return;
  const other = new pg.Client(config);
  other.on('error', () => undefined);
  try {
    await other.connect();
    await other.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    /* the server will notice the closed connection instead */
  } finally {
    await other.end().catch(() => undefined);
  }
}

/** The `failed` history row, outside the rolled-back transaction; on a new connection if the old one is gone. */
async function recordFailure(opts: LoadOptions, client: pg.Client, manifest: Manifest, error: string, startedAt: Date): Promise<void> {
  const values = {
    digest: manifest.digest, created: manifest.created, target: manifest.target ?? '',
    tool_version: manifest.tool.version, started_at: startedAt, error,
  };
  try {
    await runSql(client, 'record-failure', values);
    return;
  } catch {
    /* connection lost: try a new one */
  }
  const fresh = new pg.Client({ ...opts.connection, connectionTimeoutMillis: 5000 });
  fresh.on('error', () => undefined);
  try {
    await fresh.connect();
    await runSql(fresh, 'record-failure', values);
  } catch {
    opts.log.warn('could not record the failure in clair_bundle.load_history (database unreachable)');
  } finally {
    await fresh.end().catch(() => undefined);
  }
}

