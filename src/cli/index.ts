#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { buildBundle, fetchFeeds } from '../build.js';
import { verifyBundle } from '../bundle/verify.js';
import { signBundle, verifySignature } from '../bundle/signature.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError, describePlace, exitCodeOf, UsageError } from '../errors.js';
import { feeds } from '../feeds/index.js';
import { createLogger, type Logger } from '../log.js';
import { classifyDbError } from '../load/db.js';
import { redact, resolveConnection, type ResolvedConnection } from '../load/connection.js';
import { loadBundle } from '../load/load.js';
import { readStatus } from '../load/status.js';
import { TARGETS, TOOL_VERSION } from '../version.js';
import { formatStatus, formatSummary, oneLineSummary, formatRows } from './output.js';
import { runDemo } from '../demo.js';
import { checkConfigFile } from '../check-config.js';
import { ConfigError } from '../errors.js';
import { createMappingServer } from '../serve/mappings.js';

/** The only place that prints results and sets the exit status. */
let secrets: string[] = [];
let verbose = false;
const out = (s: string) => process.stdout.write(redact(s, secrets) + '\n');

function loggerFor(cmd: Command): Logger {
  const o = cmd.optsWithGlobals() as { logFormat?: 'text' | 'json'; quiet?: boolean; verbose?: boolean };
  return createLogger({
    format: o.logFormat, level: o.quiet ? 'warn' : o.verbose ? 'debug' : 'info',
    write: (line) => process.stderr.write(redact(line, secrets) + '\n'),
  });
}

function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('expected NAME=VALUE');
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}
const collect = (v: string, prev: string[] = []) => [...prev, v];
function duration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration like 30s, 5m, 500ms');
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h' ?? 's'];
}

function dbOptions(cmd: Command): Command {
  return cmd
    .option('--db <connstring>', 'database: postgres:// URL or libpq "host=… dbname=…" string, as Clair writes it')
    .option('--clair-config <file>', "read matcher.connstring from Clair's config (also honours CLAIR_CONF)");
}

async function connection(cmd: Command): Promise<ResolvedConnection> {
  const o = cmd.opts() as { db?: string; clairConfig?: string };
  const conn = await resolveConnection({ db: o.db, clairConfig: o.clairConfig, env: process.env });
  secrets = [...secrets, ...conn.secrets];
  return conn;
}

const EXIT_CODES = `
Exit codes: 0 ok (also "already loaded") · 1 internal error · 2 usage/config · 3 bundle or mirror
invalid · 4 database unreachable, permission or schema problem · 5 load failed, rolled back ·
6 another load holds the lock · 7 bundle older than the loaded one (see --allow-older)`;

/** The sources, their parts (for --url) and options (for --option), for fetch/build --help. */
function sourcesHelp(): string {
  const lines = ['', 'Sources (--source), their parts (--url PART=BASE) and options (--option NAME=VALUE):'];
  for (const f of feeds) {
    lines.push(`  ${f.id}${f.optIn ? ' (off unless named)' : ''}: ${f.description}`);
    for (const [part, url] of Object.entries(f.parts)) lines.push(`    --url ${part}=${url}`);
    for (const [name, what] of Object.entries(f.options ?? {})) lines.push(`    --option ${name}=…  ${what}`);
  }
  return lines.join('\n');
}

const program = new Command('clair-bundle')
  .description("Keep Clair's vulnerability database current without internet access: fetch feeds into a mirror, build an offline bundle, load it atomically.")
  .version(TOOL_VERSION)
  .option('--verbose', 'debug logging and stack traces')
  .option('--quiet', 'warnings and errors only')
  .addOption(new Option('--log-format <format>', 'log format on stderr').choices(['text', 'json']).default('text'))
  .addHelpText('after', EXIT_CODES)
  .showHelpAfterError()
  // Commander echoes mistyped arguments (`--dbx=postgres://user:password@…`): redact them too.
  .configureOutput({ writeErr: (str) => process.stderr.write(redact(str, secrets)) })
  .exitOverride();

program.command('fetch')
  .description('download upstream feeds into a mirror directory (the connected side)')
  .requiredOption('--mirror <dir>', 'mirror directory')
  .option('--source <source>', `feed to fetch, repeatable (known: ${feeds.map((f) => f.id).join(', ') || 'none yet'})`, collect)
  .option('--url <part=url>', 'replace the upstream base URL of a feed part, repeatable (e.g. rhel-vex=http://mirror/vex/)', keyValue)
  .option('--option <name=value>', 'feed option, repeatable (e.g. osv-ecosystems=pypi,maven)', keyValue)
  .addHelpText('after', () => sourcesHelp())
  .action(async (o, cmd: Command) => {
    await fetchFeeds({ mirror: o.mirror, sources: o.source, urls: o.url, options: o.option, log: loggerFor(cmd) });
  });

program.command('build')
  .description('turn a mirror into a bundle; never touches the network')
  .requiredOption('--mirror <dir>', 'mirror directory written by fetch')
  .requiredOption('--out <dir>', 'bundle directory to write (replaced atomically)')
  .option('--source <source>', 'feed to include, repeatable (default: every source fetched into the mirror)', collect)
  .addOption(new Option('--target <version>', 'claircore version whose rules the rows follow').choices([...TARGETS]).default(TARGETS[0]))
  .option('--option <name=value>', 'feed option, repeatable', keyValue)
  .addHelpText('after', () => sourcesHelp())
  .action(async (o, cmd: Command) => {
    const m = await buildBundle({ mirror: o.mirror, out: o.out, sources: o.source, target: o.target, options: o.option, log: loggerFor(cmd) });
    out(`built ${o.out}: ${m.updaters.length} updaters, ${m.updaters.reduce((n, u) => n + u.rows, 0)} rows, ${m.mappings.length} mapping documents, digest ${m.digest}`);
  });

program.command('verify')
  .description('check a bundle: manifest, checksums, CSV headers and row counts (exit 3 on any mismatch)')
  .argument('<bundle>', 'bundle directory')
  .option('--public-key <pem>', 'also require manifest.json.sig to verify with this public key')
  .action(async (bundle: string, o) => {
    const r = await verifyBundle(bundle);
    if (o.publicKey) await verifySignature(bundle, o.publicKey);
    out(`ok: ${bundle} (${r.files} files, ${r.rows} rows, digest ${r.manifest.digest})`);
  });

program.command('sign')
  .description('write manifest.json.sig: a detached signature of the manifest (cosign sign-blob format)')
  .argument('<bundle>', 'bundle directory')
  .requiredOption('--key <pem>', 'private key (PEM: ECDSA P-256, RSA or Ed25519)')
  .action(async (bundle: string, o) => {
    await verifyBundle(bundle);
    out(`signed: ${await signBundle(bundle, o.key)}`);
  });

program.command('sql')
  .description('print the psql script a DBA runs from inside the bundle directory: psql -v ON_ERROR_STOP=1 -f load.sql')
  .argument('<bundle>', 'bundle directory')
  .action(async (bundle: string) => {
    await verifyBundle(bundle);
    process.stdout.write(await readFile(path.join(bundle, 'load.sql'), 'utf8'));
  });

dbOptions(program.command('load'))
  .description("load a bundle into Clair's matcher database in one transaction (data files over 64 MiB are verified while they are copied, before anything is committed)")
  .argument('<bundle>', 'bundle directory')
  .option('--dry-run', 'report per updater what would change, write nothing')
  .option('--allow-older', 'load even if a newer bundle was loaded before')
  .option('--no-wait', 'exit 6 at once if another load holds the lock')
  .option('--lock-timeout <duration>', 'how long to wait for the load lock and Clair updater locks', duration, 600_000)
  .option('--statement-timeout <duration>', 'fail (exit 5, rolled back) when one statement runs or the database stays silent longer, e.g. a stalled network (default: no limit)', duration)
  .option('--json', 'print the summary as JSON')
  .option('--public-key <pem>', 'require manifest.json.sig to verify with this public key (cosign/openssl compatible)')
  .option('--require-signature', 'refuse an unsigned bundle (needs --public-key or CLAIR_BUNDLE_PUBLIC_KEY)')
  .addHelpText('after', `\nDatabase: --db, else --clair-config, else CLAIR_CONF, else CLAIR_BUNDLE_DB, else PG* variables.
Speed (README "How a load works"): a refresh stages only the rows whose row keys are new since this
tool's last load of the updater (keyed refresh); a role that may set session_replication_role (a
superuser, or GRANT SET ON PARAMETER session_replication_role) links rows without per-row
foreign-key triggers (trusted links). Both are automatic and leave the same tables.${EXIT_CODES}`)
  .action(async (bundle: string, o, cmd: Command) => {
    const publicKey = o.publicKey ?? process.env.CLAIR_BUNDLE_PUBLIC_KEY;
    if (o.requireSignature && !publicKey) throw new UsageError('--require-signature needs --public-key (or CLAIR_BUNDLE_PUBLIC_KEY)');
    const conn = await connection(cmd);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const summary = await loadBundle({
      bundle, connection: conn.config, target: conn.description, dryRun: o.dryRun, allowOlder: o.allowOlder,
      noWait: o.wait === false, lockTimeoutMs: o.lockTimeout, statementTimeoutMs: o.statementTimeout, publicKey, signal: stop.signal, log: loggerFor(cmd),
      verifyUpFrontBytes: upFrontBytes(process.env.CLAIR_BUNDLE_VERIFY_UP_FRONT_BYTES),
    }).finally(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
    out(o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    writeTerminationMessage(oneLineSummary(summary));
  });

/**
 * CLAIR_BUNDLE_VERIFY_UP_FRONT_BYTES (tests, README "How a load works"): CSV data files up to this
 * size are verified before connecting, bigger ones while they are copied (default 64 MiB).
 */
function upFrontBytes(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`CLAIR_BUNDLE_VERIFY_UP_FRONT_BYTES must be a number of bytes, not ${JSON.stringify(value)}`);
  return Number(value);
}

dbOptions(program.command('status'))
  .description('what is loaded: bundle history, per-updater latest update operation, fingerprint, age, rows')
  .option('--json', 'print JSON')
  .option('--limit <n>', 'history rows to show', (v) => Number(v), 10)
  .action(async (o, cmd: Command) => {
    const conn = await connection(cmd);
    const client = new pg.Client(conn.config);
    try {
      await client.connect();
    } catch (err) {
      throw classifyDbError(err, conn.description);
    }
    try {
      const st = await readStatus(client, o.limit);
      out(o.json ? JSON.stringify(st, null, 2) : formatStatus(st));
    } finally {
      await client.end();
    }
  });

program.command('check-config')
  .description('lint a Clair config for offline use; prints the fixes; exit 2 when something would reach the internet or log futile errors')
  .argument('<clair-config>', "Clair's config.yaml")
  .action(async (file: string) => {
    const { findings, fixed } = await checkConfigFile(file);
    if (findings.length === 0) {
      out(`ok: ${file} is ready for a disconnected cluster`);
      return;
    }
    for (const f of findings) out(`problem: ${f.path}: ${f.problem}\n  fix: ${f.path} = ${JSON.stringify(f.fix)}`);
    out(`\nCorrected config:\n---\n${fixed}`);
    throw new ConfigError(`${findings.length} setting(s) in ${file} need changing for offline use`);
  });

dbOptions(program.command('serve-mappings'))
  .description("serve repository-to-cpe.json and container-name-repos-map.json from PostgreSQL for Clair's repo2cpe_mapping_url / name2repos_mapping_url")
  .option('--listen <addr>', 'host:port to listen on', '0.0.0.0:8080')
  .addHelpText('after', `
Paths: /repository-to-cpe.json, /container-name-repos-map.json, /healthz.
Clair config (indexer):
  scanner:
    repo:
      rhel-repository-scanner:
        repo2cpe_mapping_url: http://clair-bundle-mappings:8080/repository-to-cpe.json
    package:
      rhel_containerscanner:
        name2repos_mapping_url: http://clair-bundle-mappings:8080/container-name-repos-map.json`)
  .action(async (o, cmd: Command) => {
    const conn = await connection(cmd);
    const log = loggerFor(cmd);
    const m = /^(.*):(\d+)$/.exec(o.listen);
    if (!m) throw new UsageError('--listen takes host:port, e.g. 0.0.0.0:8080');
    const pool = new pg.Pool({ ...conn.config, max: 4 });
    pool.on('error', (err) => log.warn('database connection lost', { error: err.message }));
    const server = createMappingServer(pool, log);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(m[2]), m[1] || '0.0.0.0', () => resolve()));
    log.info('serving mapping documents', { listen: o.listen, db: conn.description });
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await pool.end();
  });

program.command('demo')
  .description('the embedded default: throwaway PostgreSQL, Clair matcher schema, bundle from the sample feeds, load, status, a sample query')
  .action(async (_o, cmd: Command) => {
    const r = await runDemo(loggerFor(cmd));
    out(formatSummary(r.summary));
    out('');
    out(formatStatus(r.status));
    out('');
    out(`${r.query.title}\n${formatRows(r.query.rows)}`);
  });

/** Kubernetes shows /dev/termination-log in the Job's status. */
function writeTerminationMessage(line: string): void {
  const file = process.env.CLAIR_BUNDLE_TERMINATION_LOG ?? '/dev/termination-log';
  if (existsSync(file)) {
    try {
      writeFileSync(file, redact(line, secrets) + '\n');
    } catch {
      /* not writable: nothing to report to */
    }
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const code = exitCodeOf(err);
  let line: string;
  if (err instanceof AppError) {
    const where = describePlace(err.place);
    line = `error[${err.code}]: ${err.message}${where && !err.message.includes(err.place.file ?? '\u0000') ? ` (${where})` : ''}`;
    if (err.hint) line += `\n  hint: ${err.hint}`;
  } else {
    line = `error[INTERNAL]: ${(err as Error)?.message ?? String(err)}`;
  }
  process.stderr.write(redact(line, secrets) + '\n');
  if (verbose && err instanceof Error && err.stack) process.stderr.write(redact(err.stack, secrets) + '\n');
  writeTerminationMessage(line.split('\n')[0]);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return report(err);
  }
}

process.exitCode = await main(process.argv);
