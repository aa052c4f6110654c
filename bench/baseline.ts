/**
 * Baseline for `npm run bench`: the rows of a bundle written into Clair's matcher schema the way
 * claircore v1.5.54 writes them (clair-matcher-db.md §4.1/§4.4/§4.5, claircore
 * datastore/postgres/updatevulnerabilities.go and enrichment.go), i.e. what
 * `clairctl import-updaters` does per updater:
 *
 *   vulnerability updater: BEGIN · INSERT update_operation RETURNING id · per row
 *     `INSERT INTO vuln … ON CONFLICT (hash_kind, hash) DO NOTHING` +
 *     `INSERT INTO uo_vuln (uo, vuln) VALUES ($3, (SELECT id FROM vuln WHERE hash_kind=$1 AND hash=$2)) ON CONFLICT DO NOTHING`
 *     sent as pipelined batches, flushed when ≥ 1000 statements are queued (every 500 rows) ·
 *     alias namespaces + aliases on a second connection in autocommit · bulk unnest() links of
 *     vulnerability_alias and vulnerability_self in the transaction · COMMIT ·
 *     REFRESH MATERIALIZED VIEW CONCURRENTLY latest_update_operations.
 *   enrichment updater: INSERT update_operation (autocommit) · BEGIN · per record insert +
 *     uo_enrich link, flushed when > 1000 statements are queued, `ANALYZE enrichment` on the other
 *     connection every 10 000 records · COMMIT · ANALYZE enrichment · REFRESH … CONCURRENTLY.
 *   An updater whose latest UO of the same kind already has the bundle's fingerprint is skipped
 *   (import-updaters' "fingerprint match, skipping").
 *
 * Pipelining: node-postgres has no batch API, so a custom Submittable writes Parse (once per
 * connection) + Bind + Execute for every queued statement and one Sync, like pgx's SendBatch in
 * its default cache-statement mode, then waits for ReadyForQuery — one round trip per batch.
 *
 * Deviations, all in the baseline's favour or neutral: hashes and column text are read from the
 * bundle CSV instead of being computed (no md5 in the client); the alias link arrays are sent in
 * chunks of ALIAS_CHUNK pairs instead of one statement holding every pair (claircore keeps them
 * all in memory; one 27 M-element array would not fit a Node heap), read in a second pass over
 * the alias CSV.
 *
 * Usage: node dist/bench/baseline.js --db URL BUNDLE_DIR   (prints a JSON summary on stdout)
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Manifest, ManifestUpdater } from '../bundle/manifest.js';

const VULN_FLUSH = 1000;
const ALIAS_CHUNK = 100_000;
const ANALYZE_EVERY = 10_000;

const INSERT_VULN = `
INSERT INTO vuln (
  hash_kind, hash,
  name, updater, description, issued, links, severity, normalized_severity,
  package_name, package_version, package_module, package_arch, package_kind,
  dist_id, dist_name, dist_version, dist_version_code_name, dist_version_id, dist_arch, dist_cpe, dist_pretty_name,
  repo_name, repo_key, repo_uri,
  fixed_in_version, arch_operation, version_kind, vulnerable_range,
  not_vulnerable
) VALUES (
  $1, $2,
  $3, $4, $5, $6, $7, $8, $9,
  $10, $11, $12, $13, $14,
  $15, $16, $17, $18, $19, $20, $21, $22,
  $23, $24, $25,
  $26, $27, $28, COALESCE($29, VersionRange('{}', '{}', '()')),
  $30
)
ON CONFLICT (hash_kind, hash) DO NOTHING`;
const ASSOC_VULN = `
INSERT INTO uo_vuln (uo, vuln) VALUES (
  $3,
  (SELECT id FROM vuln WHERE hash_kind = $1 AND hash = $2))
ON CONFLICT DO NOTHING`;
const INSERT_NAMESPACES = `INSERT INTO alias_namespace (namespace) VALUES (unnest($1::TEXT[])) ON CONFLICT DO NOTHING`;
const INSERT_ALIASES = `INSERT INTO alias (namespace, name)
  SELECT ns.id, input.name
  FROM (SELECT unnest($1::TEXT[]) AS space, unnest($2::TEXT[]) AS name) AS input
  JOIN alias_namespace AS ns ON input.space = ns.namespace
ON CONFLICT DO NOTHING`;
const LINK_ALIASES = `
INSERT INTO vulnerability_alias (vulnerability, alias)
SELECT v.id, a.id
FROM unnest($1::TEXT[], $2::BYTEA[], $3::TEXT[], $4::TEXT[]) AS input(hash_kind, hash, alias_space, alias_name)
JOIN vuln v ON v.hash_kind = input.hash_kind AND v.hash = input.hash
JOIN alias_namespace ns ON ns.namespace = input.alias_space
JOIN alias a ON a.name = input.alias_name AND a.namespace = ns.id
ON CONFLICT DO NOTHING`;
const LINK_SELF = `
INSERT INTO vulnerability_self (vulnerability, self)
SELECT v.id, a.id
FROM unnest($1::TEXT[], $2::BYTEA[], $3::TEXT[], $4::TEXT[]) AS input(hash_kind, hash, self_space, self_name)
JOIN vuln v ON v.hash_kind = input.hash_kind AND v.hash = input.hash
JOIN alias_namespace ns ON ns.namespace = input.self_space
JOIN alias a ON a.name = input.self_name AND a.namespace = ns.id
ON CONFLICT DO NOTHING`;
const INSERT_ENRICHMENT = `INSERT INTO enrichment (hash_kind, hash, updater, tags, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash_kind, hash) DO NOTHING`;
const ASSOC_ENRICHMENT = `
INSERT INTO uo_enrich (enrich, updater, uo, date)
VALUES ((SELECT id FROM enrichment WHERE hash_kind = $1 AND hash = $2), $3, $4, transaction_timestamp())
ON CONFLICT DO NOTHING`;
const REFRESH = 'REFRESH MATERIALIZED VIEW CONCURRENTLY latest_update_operations';

// ---------------------------------------------------------------------------------------------
// Pipelined batches on node-postgres

type Value = string | Buffer | null;
interface Queued { name: string; text: string; values: Value[] }

/** The parts of pg's internal Connection a Submittable drives. */
interface WireConnection {
  parse(q: { name: string; text: string; types: number[] }): void;
  bind(c: { statement: string; values: Value[] }): void;
  execute(c: { portal: string; rows: number }): void;
  sync(): void;
  stream: { cork?: () => void; uncork?: () => void };
}

const prepared = new WeakMap<pg.Client, Set<string>>();

class Pipeline {
  private readonly done: Promise<number>;
  private resolve!: (n: number) => void;
  private reject!: (e: Error) => void;
  private completed = 0;
  private failed = false;
  constructor(private readonly client: pg.Client, private readonly items: Queued[]) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }
  submit(connection: WireConnection): void {
    let names = prepared.get(this.client);
    if (!names) prepared.set(this.client, (names = new Set()));
    connection.stream.cork?.();
    try {
      for (const it of this.items) {
        if (!names.has(it.name)) {
          connection.parse({ name: it.name, text: it.text, types: [] });
          names.add(it.name);
        }
        connection.bind({ statement: it.name, values: it.values });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }
  handleCommandComplete(): void {
    this.completed++;
  }
  handleError(err: Error): void {
    this.failed = true;
    this.reject(err);
  }
  handleReadyForQuery(): void {
    if (!this.failed) this.resolve(this.completed);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
  run(): Promise<number> {
    void this.client.query(this as unknown as pg.QueryConfig);
    return this.done;
  }
}

class Batch {
  items: Queued[] = [];
  statements = 0;
  constructor(private readonly client: pg.Client) {}
  queue(name: string, text: string, values: Value[]): void {
    this.items.push({ name, text, values });
    this.statements++;
  }
  get length(): number {
    return this.items.length;
  }
  async flush(): Promise<void> {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    await new Pipeline(this.client, items).run();
  }
}

// ---------------------------------------------------------------------------------------------

function hashBytes(cell: string): Buffer {
  return Buffer.from(cell.slice(2), 'hex');
}

/**
 * CSV rows of a bundle file (RFC 4180 as src/bundle/csv.ts writes it: every string quoted,
 * NULL = an unquoted empty cell, as COPY reads it). A small state machine: csv-parse's `cast`
 * hook, needed to tell NULL from '', costs ~0.4 ms a row and would dominate the baseline.
 */
export async function* rows(file: string, chunkSize = 1 << 20): AsyncGenerator<(string | null)[]> {
  let row: (string | null)[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let pendingQuote = false;
  let header = true;
  const endField = () => {
    row.push(quoted || field !== '' ? field : null);
    field = '';
    quoted = false;
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: chunkSize })) {
    const text = chunk as string;
    const out: (string | null)[][] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (inQuotes) {
        if (pendingQuote) {
          pendingQuote = false;
          if (ch === 34) { // "" inside quotes
            field += '"';
            start = i + 1;
            continue;
          }
          inQuotes = false; // the quote closed the field; fall through to handle ch
        } else {
          if (ch === 34) {
            field += text.slice(start, i);
            pendingQuote = true;
          }
          continue;
        }
      }
      if (ch === 34) {
        inQuotes = true;
        quoted = true;
        start = i + 1;
      } else if (ch === 44) {
        endField();
      } else if (ch === 10) {
        endField();
        if (header) header = false;
        else out.push(row);
        row = [];
      } else {
        field += text[i];
      }
    }
    if (inQuotes && !pendingQuote) field += text.slice(start);
    yield* out;
  }
  if (row.length > 0 || field !== '' || quoted) {
    endField();
    if (!header) yield row;
  }
}

interface Counts { updater: string; kind: string; action: 'loaded' | 'skipped'; rows: number; statements: number; aliasPairs: number; seconds: number }

async function latestFingerprints(client: pg.Client): Promise<Map<string, Set<string>>> {
  const res = await client.query<{ key: string; fingerprint: string }>(`SELECT kind || ' ' || updater AS key, fingerprint FROM update_operation`);
  const m = new Map<string, Set<string>>();
  for (const r of res.rows) {
    if (!m.has(r.key)) m.set(r.key, new Set());
    m.get(r.key)!.add(r.fingerprint);
  }
  return m;
}

async function vulnerabilities(tx: pg.Client, side: pg.Client, bundle: string, u: ManifestUpdater): Promise<Omit<Counts, 'seconds' | 'action'>> {
  const batch = new Batch(tx);
  await tx.query('BEGIN');
  const uo = (await tx.query<{ id: string }>(`INSERT INTO update_operation (updater, fingerprint, kind) VALUES ($1, $2, 'vulnerability') RETURNING id, ref`, [u.name, u.fingerprint])).rows[0].id;
  let n = 0;
  for await (const r of rows(path.join(bundle, u.file))) {
    // CSV: hash, updater, name, description, issued, links, severity, normalized_severity,
    // package_name … package_kind (8–12), dist_* (13–20), repo_* (21–23), fixed_in_version,
    // arch_operation, version_kind, vulnerable_range, not_vulnerable (24–28).
    const hash = hashBytes(r[0]!);
    batch.queue('vi', INSERT_VULN, ['md5', hash, r[2], r[1], ...r.slice(3, 29)]);
    batch.queue('va', ASSOC_VULN, ['md5', hash, uo]);
    n++;
    if (batch.length >= VULN_FLUSH) await batch.flush();
  }
  await batch.flush();
  let pairs = 0;
  if (u.aliases && u.aliases.rows > 0) {
    const file = path.join(bundle, u.aliases.file);
    // Pass 1: the distinct namespaces and aliases, inserted on the other connection in autocommit.
    const spaces = new Set<string>();
    const aliases = new Map<string, [string, string]>();
    for await (const [, , ns, name] of rows(file)) {
      spaces.add(ns!);
      aliases.set(`${ns}\u0000${name}`, [ns!, name!]);
    }
    await side.query(INSERT_NAMESPACES, [[...spaces]]);
    const list = [...aliases.values()];
    await side.query(INSERT_ALIASES, [list.map((a) => a[0]), list.map((a) => a[1])]);
    // Pass 2: the links, in the transaction.
    const chunk = { alias: [[], [], [], []] as [string[], Buffer[], string[], string[]], self: [[], [], [], []] as [string[], Buffer[], string[], string[]] };
    const send = async (kind: 'alias' | 'self') => {
      const c = chunk[kind];
      if (c[0].length === 0) return;
      await tx.query(kind === 'alias' ? LINK_ALIASES : LINK_SELF, c);
      chunk[kind] = [[], [], [], []];
    };
    for await (const [hash, kind, ns, name] of rows(file)) {
      const k = kind === 'self' ? 'self' : 'alias';
      const c = chunk[k];
      c[0].push('md5');
      c[1].push(hashBytes(hash!));
      c[2].push(ns!);
      c[3].push(name!);
      pairs++;
      if (c[0].length >= ALIAS_CHUNK) await send(k);
    }
    await send('alias');
    await send('self');
  }
  await tx.query('COMMIT');
  await side.query(REFRESH);
  return { updater: u.name, kind: u.kind, rows: n, statements: batch.statements, aliasPairs: pairs };
}

async function enrichments(tx: pg.Client, side: pg.Client, bundle: string, u: ManifestUpdater): Promise<Omit<Counts, 'seconds' | 'action'>> {
  const uo = (await side.query<{ id: string }>(`INSERT INTO update_operation (updater, fingerprint, kind) VALUES ($1, $2, 'enrichment') RETURNING id, ref`, [u.name, u.fingerprint])).rows[0].id;
  const batch = new Batch(tx);
  await tx.query('BEGIN');
  let n = 0;
  for await (const r of rows(path.join(bundle, u.file))) {
    n++;
    if (n % ANALYZE_EVERY === 0) await side.query('ANALYZE enrichment');
    const hash = hashBytes(r[0]!);
    batch.queue('ei', INSERT_ENRICHMENT, ['md5', hash, u.name, r[2], r[3]]);
    batch.queue('ea', ASSOC_ENRICHMENT, ['md5', hash, u.name, uo]);
    if (batch.length > VULN_FLUSH) await batch.flush();
  }
  await batch.flush();
  await tx.query('COMMIT');
  await side.query('ANALYZE enrichment');
  await side.query(REFRESH);
  return { updater: u.name, kind: u.kind, rows: n, statements: batch.statements, aliasPairs: 0 };
}

export async function writeLikeClaircore(db: string, bundle: string): Promise<{ seconds: number; updaters: Counts[] }> {
  const started = Date.now();
  const manifest = JSON.parse(await readFile(path.join(bundle, 'manifest.json'), 'utf8')) as Manifest;
  const tx = new pg.Client({ connectionString: db, application_name: 'clair-bundle-baseline' });
  const side = new pg.Client({ connectionString: db, application_name: 'clair-bundle-baseline-side' });
  await tx.connect();
  await side.connect();
  try {
    const existing = await latestFingerprints(side);
    const updaters: Counts[] = [];
    for (const u of manifest.updaters) {
      const t = Date.now();
      if (existing.get(`${u.kind} ${u.name}`)?.has(u.fingerprint)) {
        updaters.push({ updater: u.name, kind: u.kind, action: 'skipped', rows: 0, statements: 0, aliasPairs: 0, seconds: 0 });
        continue;
      }
      const c = u.kind === 'vulnerability' ? await vulnerabilities(tx, side, bundle, u) : await enrichments(tx, side, bundle, u);
      updaters.push({ ...c, action: 'loaded', seconds: (Date.now() - t) / 1000 });
    }
    return { seconds: (Date.now() - started) / 1000, updaters };
  } finally {
    await tx.end().catch(() => undefined);
    await side.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--db');
  if (i < 0 || !args[i + 1]) throw new Error('usage: baseline.js --db URL BUNDLE_DIR');
  const db = args[i + 1];
  const bundle = args.filter((_, j) => j !== i && j !== i + 1)[0];
  if (!bundle) throw new Error('usage: baseline.js --db URL BUNDLE_DIR');
  const result = await writeLikeClaircore(db, bundle);
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`baseline failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
