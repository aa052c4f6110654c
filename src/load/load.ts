import { createReadStream, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Readable, type Transform } from 'node:stream';
import { migrate } from 'postgres-migrations';
import { checkedReadStream, checkFile, csvFiles, fileWatcher, verifyBundle, type ExpectedFile } from '../bundle/verify.js';
import { verifySignature } from '../bundle/signature.js';
import type { Manifest } from '../bundle/manifest.js';
import { AppError, BundleError, DatabaseError, LoadFailedError, LockBusyError, RefusedError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadSql, MIGRATIONS_DIR } from '../sql.js';
import { csvHeader } from '../bundle/csv.js';
import { ALIAS_COLUMNS, VULN_COLUMNS } from '../model/row.js';
import { classifyDbError, connectionLost, copyFile, dropConnection, runSql, runSqlArrays, sqlStateOf, StatementError } from './db.js';
import { ALIAS_LINKS_COPY, ALIAS_STAGE, aliasNamesCopy, asCopyText, BINARY_FORMAT, copyStatement, dataCopies, DIRECT_FORMAT, directCopy, keyCopies, leftOutCopy, mergeSteps, MANIFEST_COPY, numberedAliasCopy, rowKeyCopy, SELF_LINKS_COPY, stageKeyCopy, type CopyStep } from './plan.js';
import { LeftOutRecords, lineOfKeptRecord, NotVulnerableFilter, READ_CHUNK, RecordSet } from './not-vulnerable-filter.js';
import { CsvToCopyBinary } from './csv-to-copy-binary.js';
import { CopiedRowChecks } from './copied-row-checks.js';
import { CsvToCopyText, LineNumbers, type CsvCheck, type Numbering } from './csv-to-copy-text.js';
import type { KeyOrdinals } from './alias-ordinals.js';
import { MAX_NAMES, NameOrdinals } from './name-ordinals.js';
import { AliasLinks } from './alias-links.js';
import { keyNumbering, lineOfPassedAlias, type BundleFile } from './linked-aliases.js';
import { KeysToRowKeys } from './keys-to-row-keys.js';
import { makeTempDir } from './temp-dir.js';
import { keyedRowStream, spoolKeyedRows, type KeyedRows, type SpooledRows } from './keyed-rows.js';
import { SideSession } from './side-session.js';
import { pumpFile } from './file-pump.js';

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
  /**
   * Milliseconds one statement may run (PostgreSQL's statement_timeout, lock waits excepted) and
   * the database may stay silent (a stalled network) before the load fails and rolls back; also
   * how long the server keeps a session of ours that went idle inside the transaction. 0 = none.
   */
  statementTimeoutMs?: number;
  /** Refuse the bundle unless manifest.json.sig verifies with this public key (PEM). */
  publicKey?: string;
  /** CSV data files bigger than this are verified while they are copied (default 64 MiB; tests: 0). */
  verifyUpFrontBytes?: number;
  /**
   * Schema < 18: the records left out of the file copied straight into vuln are kept in memory, as
   * their hash and number, while they take at most this many bytes (default 32 MiB, some 750 000
   * records), and copied from there; more are found by a second read of the file (tests: 0).
   */
  leftOutInMemoryBytes?: number;
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
  /** Rows read into staging: all of a changed updater's, or (a keyed refresh) those with new keys. */
  staged: number;
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
  /**
   * Link rows went in without PostgreSQL's per-row foreign-key triggers (the role may set
   * session_replication_role; sql/load/create-staging.sql). Not known for an unchanged bundle.
   */
  trustedLinks?: boolean;
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
 * Test-only (README "Reliability and security"): CLAIR_BUNDLE_TEST_MAX_NAMES=<n> lowers the number of
 * distinct alias names the second session numbers before it gives up (src/load/name-ordinals.ts),
 * so that the suite reaches that case with a few names. Inert when unset.
 */
export function testNameLimit(value = process.env.CLAIR_BUNDLE_TEST_MAX_NAMES): number {
  return Number(value) > 0 ? Number(value) : MAX_NAMES;
}

/**
 * The load's phases, in order (verify, connect, check-schema, migrate, lock, decide, begin,
 * lock-updaters, create-staging, plan-updaters, copy:<file>… (with copy:<file>:left-out on an
 * older schema), each merge step, verify-aside (an older schema's files checked meanwhile),
 * record-load, commit): each one is announced
 * with a debug log line `phase` before it starts. The second session's (side-aliases-begin, its
 * copy:<file> steps, side-aliases-end) run beside them; their lines say `session: 'second'`.
 */
class Phases {
  current = '';
  /** The phase during which the database went silent for longer than allowed. */
  stalled: { phase: string; ms: number } | undefined;
  /** Called when the watchdog fires: closes the connection so the pending round trip fails. */
  onStall: () => void = () => undefined;
  private readonly pauses = testPauses();
  /** `session`: 'second' for the second session's phases (src/load/side-session.ts), in their log lines. */
  constructor(private readonly log: Logger, private readonly statementTimeoutMs = 0, private readonly session?: string) {}

  /**
   * Runs one phase. With a statement timeout, a watchdog allows `statements` statement timeouts
   * (lock waits: `waitMs` more) plus a grace period for the database's answer, then closes the
   * connection: a stalled network fails the load instead of hanging it.
   */
  async run<T>(name: string, fn: () => Promise<T>, limits: { statements?: number; waitMs?: number; watchdog?: boolean } = {}): Promise<T> {
    this.current = name;
    const session = this.session ? { session: this.session } : {};
    this.log.debug('phase', { phase: name, ...session });
    let timer: NodeJS.Timeout | undefined;
    if (this.statementTimeoutMs > 0 && limits.watchdog !== false) {
      const ms = this.statementTimeoutMs * (limits.statements ?? 1) + (limits.waitMs ?? 0) + WATCHDOG_GRACE_MS;
      timer = setTimeout(() => {
        this.stalled = { phase: name, ms };
        this.log.warn('no answer from the database: closing the connection', { phase: name, ms });
        this.onStall();
      }, ms);
    }
    let result: T;
    try {
      result = await fn();
    } finally {
      clearTimeout(timer);
    }
    const pause = this.pauses.get(name);
    if (pause) {
      this.log.debug('test pause', { phase: name, ms: pause, ...session });
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return result;
  }
}

/**
 * The second session of an initial load: its table for alias rows, its connection and phases, its
 * task queue, and the task whose rows the load's session takes (over once taken).
 */
interface Aside {
  aliasTable: string;
  started: number;
  via: { client: pg.Client; phases: Phases };
  run(task: () => Promise<unknown>): Promise<void>;
  /** Done when the alias files are in (the last task of the session). */
  aliases?: Promise<void>;
}

/** How much longer than the statement timeout the client waits for an answer. */
const WATCHDOG_GRACE_MS = 2000;
/** LoadOptions.leftOutInMemoryBytes' default. */
const LEFT_OUT_IN_MEMORY_BYTES = 32 * 2 ** 20;
/** The directory of a keyed refresh's rows to stage (src/load/temp-dir.ts). */
const SPOOL_PREFIX = 'clair-bundle-rows-';
/** Without --statement-timeout: how long the server keeps a session of ours idle in the transaction. */
const DEFAULT_IDLE_TIMEOUT_MS = 600_000;

/** Statements in a statement file (for the watchdog): lines ending a statement. */
function statementCount(name: string): number {
  return Math.max(1, loadSql(name).split('\n').filter((l) => /;\s*$/.test(l) && !/^\s*--/.test(l)).length);
}

/** The server's answer to a lost connection of ours: which backend, so it can be ended. */
interface Backend {
  pid: number;
  /** backend_start as text (microseconds, which a JavaScript Date would lose). */
  started: string;
}

async function connect(opts: LoadOptions): Promise<pg.Client> {
  const timeout = opts.statementTimeoutMs ?? 0;
  const client = new pg.Client({
    ...opts.connection,
    connectionTimeoutMillis: opts.connection.connectionTimeoutMillis ?? (timeout > 0 ? timeout + WATCHDOG_GRACE_MS : undefined),
  });
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
  // Each big statement of a load runs once: compiling it (JIT, ~0.3 s each) costs more than it saves
  // (1 M rows: 0.4 s less in all; 9 M: no difference).
  await client.query('SET jit = off').catch(() => undefined);
  // A session of ours the network cut off (or a stalled client) must not hold the transaction, its
  // locks and the load lock until TCP notices: the server ends it once idle that long.
  const idle = timeout > 0 ? Math.max(1000, Math.floor(timeout)) : DEFAULT_IDLE_TIMEOUT_MS;
  await client.query(`SET idle_in_transaction_session_timeout = ${idle}`).catch(() => undefined);
  await client.query(`SET idle_session_timeout = ${idle}`).catch(() => undefined); // PostgreSQL >= 14
  if (timeout > 0) await client.query(`SET statement_timeout = ${Math.max(1, Math.floor(timeout))}`);
  return client;
}

/** Our schema through postgres-migrations, on this client with search_path = clair_bundle. */
async function applyMigrations(client: pg.Client): Promise<void> {
  await runSql(client, 'create-schema');
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

/** A keyed refresh's updater (plan-keyed.sql): where its rows to stage are, in its two CSVs. */
interface KeyedUpdater {
  rows: number;
  staged: number;
  changed: KeyedRows;
}

async function planKeyed(client: pg.Client): Promise<Map<string, KeyedUpdater>> {
  const keyed = new Map<string, KeyedUpdater>();
  for (const p of await runSql<{ name: string; rows: string; staged: string }>(client, 'plan-keyed')) {
    const rows = await runSqlArrays(client, 'changed-ranges', { updater: p.name });
    const column = (c: number) => Float64Array.from(rows, (r) => Number(r[c]));
    keyed.set(p.name, {
      rows: Number(p.rows), staged: Number(p.staged),
      changed: { vulnAt: column(0), vulnBytes: column(1), aliasAt: column(2), aliasBytes: column(3), digest: Buffer.concat(rows.map((r) => r[4] as Buffer)) },
    });
  }
  return keyed;
}

/**
 * A big keys file: COPY parses every field it stores (the copied file's keys into row_key: digest and
 * id; KeysToRowKeys checks that every record has its six fields) and its row count is compared, so its
 * sha256 and size alone prove it is the builder's output; the checked stream skips its own CSV scan
 * (4× slower than hashing alone).
 */
function checksumOnly(f: ExpectedFile): ExpectedFile {
  return { path: f.path, sha256: f.sha256, size: f.size };
}

/**
 * What the conversion to COPY's text format (CsvToCopyText) holds a bundle CSV to, whose checked
 * stream then only hashes it (checksumOnly): FileCheck's scan of a vulnerability CSV, as long as
 * the conversion's parse, is not made twice (a 9 M-row file: node's thread, the limit of its COPY,
 * about 0.6 s less per GB).
 */
function csvCheckOf(f: ExpectedFile): CsvCheck | undefined {
  return f.columns ? { fields: f.columns.length, header: csvHeader(f.columns), rows: f.rows } : undefined;
}

/** The ids the loader writes, `shift` + a record number up to `rows`, are exact in a JavaScript number. */
function checkIdRange(shift: number, rows: number): void {
  if (!Number.isSafeInteger(shift + rows)) throw new LoadFailedError(`load failed and was rolled back: vuln ids past ${Number.MAX_SAFE_INTEGER} are not supported`);
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
  const phases = new Phases(log, opts.statementTimeoutMs);
  const { manifest, deferred } = await phases.run('verify', async () => {
    // CSV data files over verifyUpFrontBytes are checked while they are copied (checkedReadStream,
    // below), before anything is committed: an unchanged bundle is recognised without reading them.
    const verified = await verifyBundle(opts.bundle, { data: 'size', deferAbove: opts.verifyUpFrontBytes });
    if (opts.publicKey) {
      await verifySignature(opts.bundle, opts.publicKey);
      log.info('signature verified', { key: path.basename(opts.publicKey) });
    }
    return verified;
  }, { watchdog: false });
  log.info('bundle verified', { digest: manifest.digest.slice(0, 12), updaters: manifest.updaters.length, created: manifest.created });
  const client = await phases.run('connect', () => connect(opts), { watchdog: false });
  let ended = false;
  client.on('end', () => (ended = true));
  /** The connection is gone (closed by the server, the network or the watchdog). */
  const lostWith = (err: unknown) => ended || connectionLost(err);
  phases.onStall = () => dropConnection(client);
  const backend: Backend | undefined = await backendOf(client);
  const seconds = () => (Date.now() - started) / 1000;
  const lockWaitMs = opts.noWait ? 1 : Math.max(1, Math.floor(opts.lockTimeoutMs ?? 600_000));
  const statementTimeout = Math.max(0, Math.floor(opts.statementTimeoutMs ?? 0));
  let inTransaction = false;
  /** The second session that copies keys and alias files of an initial load (below), if one is open. */
  let side: SideSession | undefined;
  /** Its tables may exist (committed by it) until this load drops them or commits. */
  let sideTable = false;
  /** The cancel request its failure sent this session (which must land before the rollback). */
  let sideCancel: Promise<void> | undefined;
  /** The links of the alias rows that session numbered, in files of their own until the load ends. */
  let aliasLinks: AliasLinks | undefined;
  /** The rows of those links, which that session did not copy (copyLinkedAliases). */
  let linkedAliases: { step: CopyStep; keys: BundleFile; table: string; rows: number } | undefined;
  /** The directory of a keyed refresh's rows to stage (linkPrior), until the load ends. */
  let spoolDir: string | undefined;
  const removeSpool = () => {
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
    spoolDir = undefined;
  };
  let history: { id: string; outcome: 'loaded' | 'unchanged'; updaters: unknown } | undefined;
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
        const detected = (await runSql<Features>(client, 'detect-schema'))[0];
        await runSql(client, 'check-privileges');
        return detected;
      }, { statements: 3 });
      await phases.run('migrate', () => applyMigrations(client), { statements: 10 });
      // Lock waits are bounded by the lock timeout, not the statement timeout.
      await phases.run('lock', async () => {
        await client.query(`SET lock_timeout = ${lockWaitMs}`);
        if (statementTimeout) await client.query('SET statement_timeout = 0');
        await runSql(client, 'lock-load');
        if (statementTimeout) await client.query(`SET statement_timeout = ${statementTimeout}`);
      }, { statements: 3, waitMs: lockWaitMs });
    } catch (err) {
      throw classifyDbError(phases.stalled ? stallError(phases, err) : err instanceof StatementError ? err.pgError : err, opts.target);
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
    }, { statements: statementCount('stage-manifest') + 3 });
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
      await phases.run('lock-updaters', async () => {
        if (statementTimeout) await client.query('SET LOCAL statement_timeout = 0');
        await runSql(client, 'lock-updaters');
        // The statements of the load wait for ordinary locks (e.g. the fast path's DROP INDEX for a
        // Clair reader) up to the lock timeout; --no-wait applies to the load and updater locks only.
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(opts.lockTimeoutMs ?? 600_000))}`);
        if (statementTimeout) await client.query(`SET LOCAL statement_timeout = ${statementTimeout}`);
      }, { statements: 4, waitMs: lockWaitMs });
    } catch (err) {
      const e = classifyDbError(phases.stalled ? stallError(phases, err) : err instanceof StatementError ? err.pgError : err, opts.target);
      if (e instanceof LockBusyError) {
        throw new LockBusyError("Clair's updater or garbage collection holds a lock this load needs (lock timeout reached)", {
          cause: err, hint: "Clair's own update run or GC is under way: wait for it (or raise --lock-timeout); matcher.disable_updaters: true keeps Clair's updaters out",
        });
      }
      throw e;
    }
    const trustedLinks = await phases.run('create-staging', async () => {
      await runSql(client, 'create-staging');
      return (await client.query<{ links: boolean }>('SELECT links FROM stage_trust')).rows[0].links;
    }, { statements: statementCount('create-staging') + 1 });
    log.info('links', { checked_by: trustedLinks ? 'the load (trusted links: SHARE locks, no per-row foreign-key triggers)' : 'foreign-key triggers' });
    const changed = await phases.run('plan-updaters', async () => {
      await runSql(client, 'plan-updaters');
      return new Set((await client.query<{ name: string }>('SELECT name FROM stage_plan WHERE changed')).rows.map((r) => r.name));
    }, { statements: statementCount('plan-updaters') + 1 });
    log.info('plan', { changed: changed.size, unchanged: manifest.updaters.length - changed.size });
    // An initial load may copy its biggest vulnerability file straight into vuln (direct-begin.sql);
    // a refresh may stage only the rows whose keys are new (plan-keyed.sql).
    const early = !opts.dryRun && manifest.vuln_csv_as_stored === true;
    let direct: { name: string; file: string; shift: string | null } | undefined;
    let keyed = new Map<string, KeyedUpdater>();
    /** The rows each keyed updater stages, in temporary files (linkPrior); others' are read from the bundle. */
    let spooled = new Map<string, SpooledRows>();
    const abs = (file: string) => path.join(opts.bundle, ...file.split('/'));
    const manifestRows = csvFiles(manifest);
    const nameLimit = testNameLimit();
    /** A CSV file of the bundle as the manifest lists it, to check it when it is read again. */
    const expectedFile = (p: string): ExpectedFile => {
      const f = manifest.files.find((x) => x.path === p)!;
      return { path: p, sha256: f.sha256, size: f.size, ...manifestRows.get(p) };
    };
    const bundleFile = (p: string): BundleFile => ({ abs: abs(p), path: p, sha256: expectedFile(p).sha256 });
    /**
     * One bundle file COPYed (phase copy:<file>, or `phase`), into `into` (default: the step's
     * table), from `source` (default: the file as it is), with statements run `before`/`after` it
     * in the same phase; every row `expected` (the manifest's count, or a keyed updater's rows to
     * stage; a function: known once the source has been read) must have arrived. `lineOf` turns the
     * line of a rejected row in `source` into the file's line. `numbering`: the converted records
     * get one more field, their number (src/load/csv-to-copy-text.ts). `via`: the second session
     * (its connection and phases) instead of the load's.
     */
    const copyStep = async (step: CopyStep, o: {
      into?: CopyStep; source?: () => NodeJS.ReadableStream | undefined; expected: number | (() => number) | undefined;
      numbering?: () => Numbering; through?: () => Transform; via?: { client: pg.Client; phases: Phases }; check?: ExpectedFile;
      binary?: { columns: readonly string[]; ids?: () => LineNumbers; leaveOut?: LeftOutRecords; checks?: CopiedRowChecks };
      before?: () => Promise<unknown>; after?: () => Promise<unknown>; phase?: string; lineOf?: (line: number) => Promise<number>;
    }) => {
      const t = Date.now();
      const target = o.into ?? step;
      const text = o.binary ? { ...target, format: BINARY_FORMAT } : asCopyText(target);
      const session = o.via ?? { client, phases };
      const rows = await session.phases.run(o.phase ?? `copy:${step.file}`, async () => {
        await o.before?.();
        let source = o.source?.();
        if (text) {
          // A file checked only now: its CSV by the conversion, if there is one (csvCheckOf).
          const check = o.check && csvCheckOf(o.check);
          const converter = o.binary ? new CsvToCopyBinary(step.file, o.binary.columns, o.binary.ids?.(), check, o.binary.leaveOut, o.binary.checks) : new CsvToCopyText(step.file, o.numbering?.(), check);
          if (source) {
            source.on('error', (err: Error) => converter.destroy(err));
            source = source.pipe(converter);
          } else {
            // The file itself: read through one buffer, which the conversion copies (pumpFile).
            void pumpFile(abs(step.file), converter, READ_CHUNK, o.check && fileWatcher(checksumOnly(o.check)));
            source = converter;
          }
          const next = o.through?.();
          if (next) {
            converter.on('error', (err: Error) => next.destroy(err));
            source = converter.pipe(next);
          }
        } else if (!source && o.check) source = checkedReadStream(opts.bundle, o.check, READ_CHUNK);
        // A rejected row's line in the converted stream, which has no header, is one less.
        const fileLine = (line: number) => (text ? line + 1 : line);
        const n = await copyFile(session.client, copyStatement(text ?? target), abs(step.file), step.file, source).catch(async (err: unknown) => {
          if (!(err instanceof StatementError && err.line)) throw err;
          throw new StatementError(err.file, err.pgError, o.lineOf ? await o.lineOf(fileLine(err.line)) : fileLine(err.line));
        });
        await o.after?.();
        return n;
      }, { statements: 1 + (o.before ? 1 : 0) + (o.after ? 1 : 0) });
      const expected = typeof o.expected === 'function' ? o.expected() : o.expected;
      if (expected !== undefined && rows !== expected) {
        throw new LoadFailedError(`load failed and was rolled back: ${step.file}: COPY read ${rows} rows, the manifest says ${expected}`, { place: { file: step.file } });
      }
      log.info('copied', { file: o.phase?.replace(/^copy:/, '') ?? step.file, rows, ms: Date.now() - t, ...(o.via ? { session: 'second' } : {}) });
      if (!o.via) stopIfAborted(opts.signal);
    };
    /**
     * An initial load that copies a file straight into vuln has a second session
     * (src/load/side-session.ts) copy the alias files (schema >= 17), while this one goes on with the
     * rest: the file copied straight into vuln, the other files, then checking and merging what it
     * copied (direct-end.sql … record-keys.sql), which needs one core. Their rows go into tables that
     * session commits, which take-side-aliases.sql brings into this transaction before the first
     * step that reads them (after pipe-aliases-begin.sql had that session send some of them). Not
     * for a refresh, nor when this transaction would not see another session's commits, nor when no
     * second connection can be opened (everything is then copied here, as before).
     */
    const openSide = async (): Promise<Aside | undefined> => {
      if (!direct) return undefined;
      const isolation = (await client.query<{ i: string }>("SELECT current_setting('transaction_isolation') AS i")).rows[0].i;
      if (isolation !== 'read committed') return undefined;
      let other: pg.Client;
      try {
        other = await connect(opts);
        // Idle until the files it copies come up (it holds no transaction and no lock meanwhile).
        await other.query('SET idle_session_timeout = 0').catch(() => undefined);
      } catch (err) {
        log.warn('copying every file in this session: a second one could not be opened', { reason: (err as Error).message });
        return undefined;
      }
      const sidePhases = new Phases(log, opts.statementTimeoutMs, 'second');
      sidePhases.onStall = () => dropConnection(other);
      // A failure there stops this session's statement too; the load then fails with it.
      const session = new SideSession(other, () => (sideCancel = cancel(opts.connection, client)));
      side = session;
      sideTable = true;
      log.info('a second session copies the alias files of the file copied straight into vuln', { updater: direct.name });
      return {
        aliasTable: 'clair_bundle.stage_alias_next', started: Date.now(),
        via: { client: other, phases: sidePhases },
        run: (task) => session.queue(() => task().catch((err: unknown) => {
          if (sidePhases.stalled) throw stallError(sidePhases, err);
          if (err instanceof AppError || !connectionLost(err)) throw err;
          throw new Error(`lost the connection to the database during ${sidePhases.current} (second session): ${(err as Error).message}`, { cause: err });
        })),
      };
    };
    let aside: Aside | undefined;
    /**
     * The keys file of the updater copied straight into vuln, copied when record-keys.sql comes up
     * (copyDirectKeys), not with the others.
     */
    let directKeys: CopyStep | undefined;
    /** The records of that updater's file a schema < 18 left out (copyWithoutNotVulnerable): their keys get no id. */
    let directLeftOut: RecordSet | undefined;
    /** A keys file into stage_row_key, each key with its line number (that of the updater copied straight into vuln, by copyDirectKeys unless it must be staged). */
    const copyKeys = (step: CopyStep) => copyStep(step, {
      into: stageKeyCopy(step),
      before: () => runSql(client, 'key-updater', { updater: step.updater }),
      source: () => keysThrough(step.file, new KeysToRowKeys(step.file, step.updater!, new LineNumbers(), 'stage')),
      // (A binary COPY's "line" is its row: the record after the header.)
      lineOf: async (line) => line + 1,
      expected: manifestRows.get(step.file)?.rows,
    });
    /**
     * A keys file in COPY's binary format (KeysToRowKeys: node parses its hex and numbers, not the
     * backend), checked by its sha256 as it is read when it was not before.
     */
    const keysThrough = (file: string, rows: KeysToRowKeys) => {
      const check = deferred.get(file);
      const source: NodeJS.ReadableStream = check
        ? checkedReadStream(opts.bundle, checksumOnly(check), READ_CHUNK) : createReadStream(abs(file), { highWaterMark: READ_CHUNK });
      source.on('error', (err: Error) => rows.destroy(err));
      return source.pipe(rows);
    };
    /** A keyed updater's two CSVs and its keys file (keyedRowStream, spoolKeyedRows). */
    const keyedFiles = (name: string) => {
      const u = manifest.updaters.find((x) => x.name === name)!;
      return { vuln: bundleFile(u.file), alias: bundleFile(u.aliases!.file), keys: u.keys!.file };
    };
    /** The headers of a keyed updater's rows to stage, as their COPYs read them. */
    const keyedHeaders = { vuln: csvHeader(VULN_COLUMNS), alias: csvHeader(ALIAS_COLUMNS) };
    /**
     * A keyed refresh links each keyed updater's rows it does not stage (link-prior.sql, most of a
     * refresh's time: one core of the database) while node reads the rows it stages from the
     * bundle into temporary files (spoolKeyedRows), which their COPYs then read: the reads no longer
     * wait for the database, nor it for them. Without a temporary directory (or when writing there
     * fails) their COPYs read them from the bundle, as before. A row that does not match its key
     * fails the load once the statement is done.
     */
    const linkPrior = async (): Promise<Map<string, SpooledRows>> => {
      const t = Date.now();
      const files = new Map<string, SpooledRows>();
      const spool = async () => {
        spoolDir = makeTempDir(SPOOL_PREFIX);
        for (const [name, k] of keyed) files.set(name, await spoolKeyedRows(keyedFiles(name), k.changed, keyedHeaders, spoolDir, name, opts.signal));
      };
      const [linked, read] = await Promise.allSettled([
        phases.run('link-prior', () => runSql(client, 'link-prior'), { statements: statementCount('link-prior') }),
        spool(),
      ]);
      stopIfAborted(opts.signal);
      if (read.status === 'rejected' && read.reason instanceof AppError) throw read.reason;
      if (linked.status === 'rejected') throw linked.reason;
      log.info('merged', { step: 'link-prior', ms: Date.now() - t, spooled: read.status === 'fulfilled' });
      if (read.status === 'fulfilled') return files;
      log.warn('the rows to stage could not be written to temporary files: their COPYs read them from the bundle', { reason: (read.reason as Error).message });
      removeSpool();
      return new Map();
    };
    if (!opts.dryRun) {
      if (early) await phases.run('fast-path-begin', () => runSql(client, 'fast-path-begin'), { statements: statementCount('fast-path-begin') });
      // (Without `early`, also the first merge step: taking the locks twice changes nothing.)
      await phases.run('lock-references', () => runSql(client, 'lock-references'), { statements: 1 });
      // (It reads no keys: which file goes straight into vuln is known before they are copied.)
      if (early) {
        [direct] = await phases.run('direct-begin', () => runSql<{ name: string; file: string; shift: string | null }>(client, 'direct-begin'), { statements: statementCount('direct-begin') });
        if (direct) log.info('copying straight into vuln', { updater: direct.name, file: direct.file });
      }
      aside = await openSide();
      // The keys of the updater copied straight into vuln come later: plan-keyed.sql does without
      // them (an empty vuln has no rows to keep).
      if (direct) directKeys = keyCopies(manifest).find((s) => s.updater === direct!.name);
      for (const step of keyCopies(manifest)) {
        if (!changed.has(step.updater!) || step.file === directKeys?.file) continue;
        await copyKeys(step);
      }
      const planned = Date.now();
      keyed = await phases.run('plan-keyed', () => planKeyed(client), { statements: statementCount('plan-keyed') + 10 });
      log.info('merged', { step: 'plan-keyed', ms: Date.now() - planned });
      for (const [name, k] of keyed) log.info('keyed refresh: staging only the rows with new keys', { updater: name, rows: k.rows, staged: k.staged });
      if (keyed.size) spooled = await linkPrior();
    }
    /**
     * The file copied straight into vuln in COPY's binary format: its rows checked by node as it
     * converts them (src/load/copied-row-checks.ts), which direct-checked.sql tells direct-end.sql
     * (unless too many were long to note: direct-end.sql checks them all again).
     */
    const rowChecks = (step: CopyStep) => new CopiedRowChecks(step.columns, step.updater!);
    const checkedRows = async (checks: CopiedRowChecks) => {
      if (checks.long) await runSql(client, 'direct-checked', { long_ids: checks.long });
    };
    /**
     * The file copied straight into a vuln without not_vulnerable (schema < 18): without that
     * column and without its "not vulnerable" records, which then go to stage_left_out (hash,
     * record number), as drop-not-vulnerable.sql leaves staged ones out: from the lines the
     * conversion noted (LeftOutRecords, in memory up to leftOutInMemoryBytes), else from a second
     * read of the file. Each copied record gets the id `shift` + its record number (direct-begin.sql
     * reserved them). The first read checks the file as any copied file; a second must find the
     * same records left out (compared by digest).
     */
    const copyWithoutNotVulnerable = async (step: CopyStep, deferredCheck: ExpectedFile | undefined, shift: number) => {
      const rows = manifestRows.get(step.file)?.rows ?? 0;
      checkIdRange(shift, rows);
      // In COPY's binary format, as on a schema with the column, without it and its "t" records.
      const left = new LeftOutRecords(rows, opts.leftOutInMemoryBytes ?? LEFT_OUT_IN_MEMORY_BYTES);
      const checks = rowChecks(step);
      await copyStep(step, {
        into: directCopy(step, false),
        binary: { columns: step.columns, ids: () => new LineNumbers(shift), leaveOut: left, checks },
        check: deferredCheck,
        expected: () => rows - left.count,
        lineOf: (line) => lineOfKeptRecord(abs(step.file), step.file, line - 1),
        after: () => checkedRows(checks),
      });
      if (left.count === 0) return;
      directLeftOut = left.set;
      // Their lines as that read noted them (1 M rows: 0.1 s against 0.5 s for a second read), or
      // else as a second read finds them again, which must agree.
      const kept = left.lines();
      let again: NotVulnerableFilter | undefined;
      await copyStep(leftOutCopy(step), {
        phase: `copy:${step.file}:left-out`,
        before: () => runSql(client, 'left-out-updater', { updater: step.updater }),
        source: () => {
          if (kept) return Readable.from(kept);
          again = new NotVulnerableFilter(step.file);
          const source = createReadStream(abs(step.file), { highWaterMark: READ_CHUNK });
          source.on('error', (err: Error) => again!.destroy(err));
          return source.pipe(again);
        },
        expected: left.count,
        after: async () => {
          if (again && again.left.digest() !== left.digest()) {
            throw new BundleError(`${step.file} changed while it was being loaded (its "not vulnerable" records differ between two reads)`, { place: { file: step.file } });
          }
        },
      });
    };
    /**
     * The alias file of the updater copied straight into vuln, each record numbered with its
     * vulnerability record (src/load/alias-ordinals.ts) from a second read of the keys file that
     * COPY read before, checked again against the manifest.
     */
    const copyNumberedAliases = async (step: CopyStep, keys: CopyStep, deferredCheck: ExpectedFile | undefined, aside?: Aside) => {
      const keysFile = bundleFile(keys.file);
      let numbering: KeyOrdinals | undefined;
      // In the second session (schema >= 18, where link-aliases.sql reads the names it lists), their
      // names are numbered too: node has a core to spare there, the load's session none.
      // Their links are collected on the way (src/load/alias-links.ts), for pipeAliases, and the
      // rows linked so are not copied (the load copies them if it cannot pipe their links:
      // copyLinkedAliases).
      const numberNames = aside && features.has_not_vulnerable;
      if (numberNames) {
        aliasLinks = AliasLinks.create((err) => log.warn('no temporary files for the alias links: link-aliases.sql links those rows', { reason: err.message }));
      }
      const links = aliasLinks;
      const names = numberNames ? new NameOrdinals(step.file, nameLimit, links, links ? 'unlinked' : undefined) : undefined;
      const rows = manifestRows.get(step.file)?.rows;
      await copyStep(step, {
        into: numberedAliasCopy(aside ? { ...step, table: aside.aliasTable, format: DIRECT_FORMAT } : step, !!names), via: aside?.via,
        check: deferredCheck,
        numbering: () => (numbering = keyNumbering(keysFile)),
        through: names ? () => names : undefined,
        expected: links && rows !== undefined ? () => rows - names!.linked : rows,
        lineOf: links ? (line) => lineOfPassedAlias(bundleFile(step.file), keysFile, 'unlinked', line, nameLimit) : undefined,
      });
      const listed = names?.names();
      if (aside && names && listed) {
        await copyStep(aliasNamesCopy(step), { via: aside.via, source: () => listed, expected: names.count, phase: `copy:${step.file} (names)` });
      }
      if (aside && links && names) linkedAliases = { step, keys: keysFile, table: aside.aliasTable, rows: names.linked };
      links?.finish();
      if (links?.unusable) log.info('alias links not collected: link-aliases.sql links those rows', { file: step.file, reason: links.unusable });
      log.info('aliases numbered by their vulnerability records', {
        file: step.file, numbered: numbering!.numbered, rows, ...(names ? { names: names.count } : {}), ...(links ? { linked: names!.linked } : {}),
      });
    };
    /** A keyed updater's rows to stage, read from their places and checked against their keys. */
    const keyedSource = (step: CopyStep, k: KeyedUpdater) => {
      const part = step.table === 'stage_vuln' ? 'vuln' : 'alias';
      const spool = spooled.get(step.updater!);
      if (spool) return createReadStream(spool[part], { highWaterMark: READ_CHUNK });
      return keyedRowStream(keyedFiles(step.updater!), k.changed, part, keyedHeaders[part]);
    };
    /**
     * Files the load reads only for their check (an alias file on a schema < 17), checked while it
     * goes on: node reads and hashes them while the database copies and merges the rest (1 M rows
     * outside the benchmark: 0.5 s of 11.5 s; in it, about as much more for the parallel workers of
     * the steps it overlaps), and the load waits for them before it records itself (verify-aside).
     */
    const checksAside: Promise<void>[] = [];
    const checkAside = (f: ExpectedFile) => {
      const t = Date.now();
      const check = checkFile(opts.bundle, f).then(() => log.info('verified', { file: f.path, ms: Date.now() - t }));
      check.catch(() => undefined); // (awaited below; a load that fails before that has its own error)
      checksAside.push(check);
    };
    /** The second session's COPYs of the alias files, queued after the loop below. */
    const sideAliases: (() => Promise<unknown>)[] = [];
    for (const step of dataCopies(manifest)) {
      if (step.updater && !changed.has(step.updater)) continue;
      const k = step.updater ? keyed.get(step.updater) : undefined;
      const deferredCheck = deferred.get(step.file);
      if (step.table === ALIAS_STAGE && !features.has_aliases) {
        // Schema < 17 has no alias tables: nothing of the file is loaded (the summary's notes say
        // so). A file checked only while it is copied is still read through, for its check, while
        // the load goes on (verify-aside).
        if (!k && deferredCheck) checkAside(deferredCheck);
        continue;
      }
      const straight = direct && step.table === 'stage_vuln' && step.updater === direct.name ? direct : undefined;
      if (straight && !features.has_not_vulnerable) {
        await copyWithoutNotVulnerable(step, deferredCheck, Number(straight.shift));
        continue;
      }
      // (Numbered by its keys file: keyCopies, for a changed updater, as this one is.)
      const keysOf = direct && step.table === ALIAS_STAGE && step.updater === direct.name && !k
        ? keyCopies(manifest).find((s) => s.updater === step.updater) : undefined;
      if (aside && step.table === ALIAS_STAGE && keyed.size === 0) {
        const a = aside;
        sideAliases.push(() => (keysOf ? copyNumberedAliases(step, keysOf, deferredCheck, a) : copyStep(step, {
          into: { ...step, table: a.aliasTable, format: DIRECT_FORMAT }, via: a.via, check: deferredCheck,
          expected: manifestRows.get(step.file)?.rows,
        })));
        continue;
      }
      if (keysOf) {
        await copyNumberedAliases(step, keysOf, deferredCheck);
        continue;
      }
      // The copied records' ids: the shift + their record numbers (direct-begin.sql reserved them).
      const shift = straight?.shift == null ? undefined : Number(straight.shift);
      if (shift !== undefined) checkIdRange(shift, manifestRows.get(step.file)?.rows ?? 0);
      const into = straight ? directCopy(step, true, shift !== undefined) : undefined;
      const checks = into && shift !== undefined ? rowChecks(step) : undefined;
      await copyStep(step, {
        into,
        // The file straight into vuln in COPY's binary format, which its backend parses in less time.
        binary: checks ? { columns: step.columns, ids: () => new LineNumbers(shift!), checks } : undefined,
        source: k ? () => keyedSource(step, k) : undefined, check: k ? undefined : deferredCheck,
        // The checked stream counted the file's records; of a keyed updater, every row to be staged.
        expected: k ? (step.table === 'stage_vuln' ? k.staged : undefined) : manifestRows.get(step.file)?.rows,
        after: step.mapping ? () => runSql(client, 'name-mapping', { mapping_name: step.mapping }) : checks ? () => checkedRows(checks) : undefined,
      });
      if (side?.failed) await side.done();
    }
    if (aside) {
      // The second session's alias files, once this session's files are in (the biggest alias file
      // comes right after the file copied straight into vuln): in one transaction of that session
      // (side-aliases-begin.sql … side-aliases-end.sql), whose COPYs freeze the rows of the table it
      // made, so reading them sets no hint bits on millions of rows (its pages then written out again).
      const a = aside;
      const copies = sideAliases.splice(0);
      const task = a.run(async () => {
        if (copies.length) {
          await a.via.phases.run('side-aliases-begin', () => runSql(a.via.client, 'side-aliases-begin'), { statements: statementCount('side-aliases-begin') });
          for (const copy of copies) await copy();
          await a.via.phases.run('side-aliases-end', () => runSql(a.via.client, 'side-aliases-end'), { statements: statementCount('side-aliases-end') });
        }
        log.info('second session done', { session: 'second', ms: Date.now() - a.started });
      });
      if (copies.length) a.aliases = task;
    }
    if (opts.dryRun) {
      if (checksAside.length) await phases.run('verify-aside', () => Promise.all(checksAside), { watchdog: false });
      const plan = await phases.run('dry-run', () => runSql<{ name: string; kind: string; changed: boolean; row_count: string; to_insert: string; to_link: string }>(client, 'dry-run'));
      await client.query('ROLLBACK');
      inTransaction = false;
      return {
        ...base, outcome: 'dry-run', historyId: null, notes: [], seconds: seconds(), trustedLinks,
        updaters: plan.map((p) => ({
          name: p.name, kind: p.kind, action: p.changed ? 'loaded' : 'unchanged', uo: null, rows: Number(p.row_count),
          staged: p.changed ? Number(p.row_count) : 0, inserted: Number(p.to_insert), linked: Number(p.to_link), left_out: 0,
        })),
      };
    }
    /** The second session's alias rows, once `task` put them in, into this transaction. */
    const takeAliases = async (task: Promise<void>, before?: () => Promise<void>) => {
      const waited = Date.now();
      await phases.run('wait-side-aliases', () => side!.through(task), { watchdog: false });
      log.info('merged', { step: 'wait-side-aliases', ms: Date.now() - waited });
      await before?.();
      await phases.run('take-side-aliases', async () => {
        await runSql(client, 'check-side-visible');
        await runSql(client, 'take-side-aliases');
      }, { statements: 1 + statementCount('take-side-aliases') });
    };
    /**
     * The keys file of the updater copied straight into vuln, around record-keys.sql: when
     * direct-keys-begin.sql says so, COPYed after it straight into clair_bundle.row_key, each key
     * with its row's id, the shift + its line number (node writes those: src/load/keys-to-row-keys.ts;
     * none for a record a schema < 18 left out, which has no row: directLeftOut),
     * instead of copied into stage_row_key before it and inserted from there (8.9 M keys: one COPY
     * of 6 s by itself, where a COPY of 10-13 s and record-keys.sql's 5.4-8.7 s were). Otherwise
     * copied as any keys file, before.
     */
    const copyDirectKeys = async (keys: CopyStep, record: () => Promise<void>) => {
      const [d] = await phases.run('direct-keys-begin', () => runSql<{ shift: string }>(client, 'direct-keys-begin', { updater: keys.updater }),
        { statements: statementCount('direct-keys-begin') });
      if (!d) {
        await copyKeys(keys);
        await phases.run('direct-keys-staged', () => runSql(client, 'direct-keys-staged'));
        await record();
        return;
      }
      await record();
      const shift = Number(d.shift);
      const rows = manifestRows.get(keys.file)?.rows ?? 0;
      checkIdRange(shift, rows);
      await copyStep(keys, {
        into: rowKeyCopy(keys), phase: `copy:${keys.file} (row keys)`,
        source: () => keysThrough(keys.file, new KeysToRowKeys(keys.file, keys.updater!, new LineNumbers(shift, directLeftOut))),
        // (A binary COPY's "line" is its row: the record after the header.)
        lineOf: async (line) => line + 1,
        expected: manifestRows.get(keys.file)?.rows,
      });
    };
    /**
     * The links of the alias rows the second session numbered, which node collected while that
     * session copied them (src/load/alias-links.ts), into COPYs of the link tables here
     * (sql/load/pipe-aliases-begin.sql) in COPY's binary format, once that step gave their ids'
     * shift and base (no links when it gives none, or none were collected: link-aliases.sql links
     * those rows).
     */
    const pipeAliases = async (): Promise<boolean> => {
      const links = aliasLinks;
      if (!links?.usable) return false;
      const piped = Date.now();
      const [p] = await phases.run('pipe-aliases-begin', async () => {
        await runSql(client, 'check-side-visible');
        return runSql<{ shift: string; base: string }>(client, 'pipe-aliases-begin');
      }, { statements: 1 + statementCount('pipe-aliases-begin') });
      if (!p) return false;
      const shift = Number(p.shift);
      const base = Number(p.base);
      const rows = await phases.run('pipe-aliases', async () => {
        // (A stream's file is opened once the COPY reads it.)
        const copy = async (statement: string, table: string, count: number, source: Readable) => {
          const t = Date.now();
          const n = await copyFile(client, statement, table, table, source);
          if (n !== count) throw new Error(`${table}: COPY read ${n} links of ${count}`);
          return [n, Date.now() - t];
        };
        const [aliases, aliasesMs] = await copy(ALIAS_LINKS_COPY, 'vulnerability_alias', links.linkCount, links.links(shift, base));
        const [selves, selvesMs] = await copy(SELF_LINKS_COPY, 'vulnerability_self', links.selfCount, links.selfLinks(shift, base));
        await runSql(client, 'pipe-aliases-end');
        return { links: aliases, selves, links_ms: aliasesMs, selves_ms: selvesMs };
      }, { statements: 3 });
      log.info('merged', { step: 'pipe-aliases', ms: Date.now() - piped, ...rows });
      return true;
    };
    /**
     * The alias rows whose links node collected, which the second session did not copy, copied here
     * into its table when their links cannot be piped (their alias file read again and split the
     * same way, src/load/name-ordinals.ts), so that link-aliases.sql links them as it links the
     * others; then the statistics and names that sql/load/linked-aliases-copied.sql gives them.
     */
    const copyLinkedAliases = async () => {
      const l = linkedAliases;
      if (!l?.rows) return;
      log.info('alias links not piped: their rows are copied', { file: l.step.file, rows: l.rows });
      const file = expectedFile(l.step.file);
      await copyStep(l.step, {
        into: numberedAliasCopy({ ...l.step, table: l.table }, true),
        check: file,
        numbering: () => keyNumbering(l.keys),
        through: () => new NameOrdinals(l.step.file, nameLimit, undefined, 'linked'),
        expected: l.rows,
        phase: `copy:${l.step.file} (linked rows)`,
        before: () => runSql(client, 'check-side-visible'),
        after: () => runSql(client, 'linked-aliases-copied'),
        lineOf: (line) => lineOfPassedAlias(bundleFile(l.step.file), l.keys, 'linked', line, nameLimit),
      });
    };
    const pipeOrCopyAliases = async () => {
      if (!(await pipeAliases())) await copyLinkedAliases();
    };
    for (const name of mergeSteps({ hasAliases: features.has_aliases, hasNotVulnerable: features.has_not_vulnerable, early, direct: !!direct })) {
      // The second session's rows, before the first step that reads them.
      if (aside?.aliases && (name === 'drop-not-vulnerable' || name === 'link-aliases')) {
        await takeAliases(aside.aliases, name === 'link-aliases' && features.has_not_vulnerable ? pipeOrCopyAliases : undefined);
        aside.aliases = undefined;
      }
      if (side && aside && !aside.aliases) {
        await side.done();
        await side.end();
        side = undefined;
      }
      const step = async () => {
        const t = Date.now();
        await phases.run(name, () => runSql(client, name), { statements: statementCount(name) });
        log.info('merged', { step: name, ms: Date.now() - t });
      };
      if (name === 'record-keys' && directKeys) await copyDirectKeys(directKeys, step);
      else await step();
      stopIfAborted(opts.signal);
      if (side?.failed) await side.done();
    }
    if (checksAside.length) await phases.run('verify-aside', () => Promise.all(checksAside), { watchdog: false });
    [history] = await phases.run('record-load', () => runSql<{ id: string; outcome: 'loaded' | 'unchanged'; updaters: unknown }>(client, 'record-load'));
    try {
      await phases.run('commit', () => client.query('COMMIT'));
    } catch (err) {
      if (!lostWith(err)) throw err; // the server answered: rolled back
      // The connection went away while COMMIT was under way: ask the database what happened.
      const committed = await confirmCommit(opts, backend, Number(history.id));
      if (committed === undefined) {
        throw new DatabaseError(`lost the connection to ${opts.target} during COMMIT and cannot reach it again: whether the load committed is unknown`, {
          cause: err, hint: 'run `clair-bundle status` (a committed load has a "loaded" history row); loading the bundle again is safe either way',
        });
      }
      if (!committed) throw err;
      log.warn('the connection was lost during COMMIT; the load committed', { history: Number(history.id) });
    }
    inTransaction = false;
    const updaters = toResults(history.updaters);
    return {
      ...base, outcome: history.outcome, historyId: Number(history.id), updaters,
      notes: notesFor(manifest, features, updaters), seconds: seconds(), trustedLinks,
    };
  } catch (caught) {
    // (The second session's failure says nothing of this session's connection.)
    const lost = !side?.isFailure(caught) && lostWith(caught);
    const failedPhase = phases.current;
    let err = caught;
    // A failure of the second session comes first: its COPY came before anything this session
    // did meanwhile (which that failure may have cancelled). So that the same bundle always fails
    // the same way, its work is waited for, unless the load was stopped or lost its connection.
    const sideFailure = !side ? undefined : opts.signal?.aborted || lost || phases.stalled ? await side.stop() : await side.settle();
    if (sideFailure && !opts.signal?.aborted) err = sideFailure.error;
    // (Sent while a statement ran, or while none did: then it changes nothing, but it must not
    // stop the statements below.)
    await sideCancel;
    if (inTransaction && !lost) await phases.run('rollback', () => client.query('ROLLBACK')).catch(() => undefined);
    if (sideTable && !lost) await runSql(client, 'drop-side-tables').catch(() => undefined);
    const denied = !(err instanceof AppError) && sqlStateOf(err) === '42501';
    const failure = err instanceof AppError ? err : denied ? permissionError(err, opts.target) : new LoadFailedError(
      opts.signal?.aborted ? 'load stopped by a signal and rolled back'
        : phases.stalled ? `load failed and was rolled back: ${stallError(phases, err).message}`
          : lost ? `load failed and was rolled back: lost the connection to the database during ${failedPhase}: ${(err as Error).message}`
            : `load failed and was rolled back: ${(err as Error).message}`, { cause: err });
    if (failure instanceof LoadFailedError || denied) await recordFailure(opts, phases, lost ? undefined : client, backend, manifest, failure.message, new Date(started));
    throw failure;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    try {
      aliasLinks?.remove();
    } catch (err) {
      log.warn('could not remove the alias links\' temporary files', { reason: (err as Error).message });
    }
    try {
      removeSpool();
    } catch (err) {
      log.warn('could not remove the temporary files of the rows to stage', { reason: (err as Error).message });
    }
    await side?.end();
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
async function recordFailure(
  opts: LoadOptions, phases: Phases, client: pg.Client | undefined, backend: Backend | undefined,
  manifest: Manifest, error: string, startedAt: Date,
): Promise<void> {
  const values = {
    digest: manifest.digest, created: manifest.created, target: manifest.target ?? '',
    tool_version: manifest.tool.version, started_at: startedAt, error,
  };
  let reason = '';
  if (client) {
    try {
      await phases.run('record-failure', () => runSql(client, 'record-failure', values));
      return;
    } catch (err) {
      reason = (err as Error).message; // connection lost, or no privilege: try a new connection
    }
  }
  const ok = await withFreshConnection(opts, async (fresh) => {
    // Our old session may still hold the transaction and its locks (a cut or stalled network):
    // end it so the next load does not have to wait for the server to notice.
    await endBackend(fresh, backend);
    await runSql(fresh, 'record-failure', values);
    return true;
  }, (err) => (reason = (err as Error).message));
  if (!ok) opts.log.warn('could not record the failure in clair_bundle.load_history', { reason });
}

/** Runs fn on a new, short-lived connection; undefined when the database cannot be reached. */
async function withFreshConnection<T>(opts: LoadOptions, fn: (c: pg.Client) => Promise<T>, onError?: (err: unknown) => void): Promise<T | undefined> {
  const fresh = new pg.Client({ ...opts.connection, connectionTimeoutMillis: 5000, query_timeout: 30_000 });
  fresh.on('error', () => undefined);
  try {
    await fresh.connect();
    return await fn(fresh);
  } catch (err) {
    onError?.(err);
    return undefined;
  } finally {
    await fresh.end().catch(() => undefined);
  }
}

/** pid and start time of the client's backend, to recognise it later from another connection. */
async function backendOf(client: pg.Client): Promise<Backend | undefined> {
  try {
    const { rows } = await client.query<{ pid: number; started: string }>(
      'SELECT pid, backend_start::text AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()');
    return rows[0];
  } catch {
    return undefined;
  }
}

/**
 * Ends our old backend if it is still there (same role: no extra privilege needed) and waits until
 * it is gone, so whatever it was doing is finished: committed or rolled back.
 */
async function endBackend(c: pg.Client, backend: Backend | undefined, graceMs = 0): Promise<void> {
  if (!backend) return;
  const alive = async () => (await c.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2', [backend.pid, backend.started])).rowCount! > 0;
  // Still in its transaction: executing a statement of it, or idle with a COMMIT that reached its
  // socket but is not read yet. Within the grace period let it finish (or exit on its own).
  const busy = async () => (await c.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2
    AND state IN ('active', 'idle in transaction') AND backend_xid IS NOT NULL`, [backend.pid, backend.started])).rowCount! > 0;
  for (let waited = 0; waited < graceMs && await busy(); waited += 100) await sleep(100);
  if (!(await alive())) return;
  await c.query('SELECT pg_terminate_backend($1)', [backend.pid]).catch(() => undefined);
  for (let i = 0; i < 300 && await alive(); i++) await sleep(100);
}

/**
 * After losing the connection during COMMIT: true when the load committed (its history row is
 * there), false when it did not, undefined when the database cannot be reached to tell.
 */
async function confirmCommit(opts: LoadOptions, backend: Backend | undefined, historyId: number): Promise<boolean | undefined> {
  return withFreshConnection(opts, async (c) => {
    await endBackend(c, backend, 5000);
    return (await c.query('SELECT 1 FROM clair_bundle.load_history WHERE id = $1', [historyId])).rowCount! > 0;
  });
}

/** A statement refused for lack of a privilege (exit 4); the load was rolled back. */
function permissionError(err: unknown, target: string): DatabaseError {
  return new DatabaseError(`permission denied on ${target}: ${(err as Error).message} (the load was rolled back)`, {
    cause: err, hint: 'see "Least privilege" in the README for the grants the loader needs',
  });
}

function stallError(phases: Phases, err: unknown): Error {
  const s = phases.stalled!;
  return new Error(`the database did not answer for ${(s.ms / 1000).toFixed(1)} s during ${s.phase} (--statement-timeout); the connection was closed`, { cause: err });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
