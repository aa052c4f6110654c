import type pg from 'pg';
import { withClient } from './db.js';

/**
 * Data conformance: for every updater, the rows linked to its latest update operation (through
 * latest_update_operations, as the matcher reads them) in database A (claircore) and B
 * (clair-bundle), keyed by (hash_kind, hex(hash)). Rows in both are compared column by column
 * (every column except id); vulnerabilities additionally by their aliases
 * (vulnerability_alias / vulnerability_self → namespace, name).
 */

type Row = Record<string, unknown>;

interface Entity {
  kind: 'vulnerability' | 'enrichment';
  table: string;
  link: string;
  linkColumn: string;
}

const ENTITIES: Record<string, Entity> = {
  vulnerability: { kind: 'vulnerability', table: 'vuln', link: 'uo_vuln', linkColumn: 'vuln' },
  enrichment: { kind: 'enrichment', table: 'enrichment', link: 'uo_enrich', linkColumn: 'enrich' },
};

/** Full rows are fetched for at most this many differing keys per updater (column statistics). */
const MAX_FULL_ROWS = 20_000;

export interface ChangedRow {
  key: string;
  a: Row;
  b: Row;
  columns: string[];
}

export interface AliasDiff {
  key: string;
  name: string;
  a: string[];
  b: string[];
}

export interface UpdaterDiff {
  updater: string;
  kindA: string | null;
  kindB: string | null;
  fingerprintA: string | null;
  fingerprintB: string | null;
  rowsA: number;
  rowsB: number;
  onlyA: string[];
  onlyB: string[];
  /** Keys present in both whose rows differ. */
  changedKeys: string[];
  /** Full rows of the first MAX_FULL_ROWS changed keys. */
  changed: ChangedRow[];
  columnCounts: Record<string, number>;
  /** Example rows only in A / only in B (first few). */
  onlyARows: Row[];
  onlyBRows: Row[];
  aliasesCompared: boolean;
  /** Vulnerabilities with at least one alias or self row. */
  aliasedA: number;
  aliasedB: number;
  aliasDiffs: AliasDiff[];
}

export function hasDifferences(d: UpdaterDiff): boolean {
  return d.kindA !== d.kindB || d.onlyA.length > 0 || d.onlyB.length > 0 || d.changedKeys.length > 0 || d.aliasDiffs.length > 0;
}

interface Latest { id: string; kind: string; fingerprint: string | null }

async function latestOps(c: pg.Client): Promise<Map<string, Latest>> {
  const { rows } = await c.query<{ updater: string } & Latest>(`
    SELECT l.updater, l.id::text AS id, l.kind, o.fingerprint
    FROM latest_update_operations l JOIN update_operation o ON o.id = l.id`);
  return new Map(rows.map((r) => [r.updater, { id: r.id, kind: r.kind, fingerprint: r.fingerprint }]));
}

function keyExpr(alias: string): string {
  return `coalesce(${alias}.hash_kind, '') || ':' || coalesce(encode(${alias}.hash, 'hex'), '')`;
}

/** key -> md5 of the row's JSON without id, for the rows linked to update operation `uo`. */
async function digests(c: pg.Client, e: Entity, uo: string): Promise<Map<string, string>> {
  const { rows } = await c.query<{ key: string; d: string }>(`
    SELECT ${keyExpr('x')} AS key, md5((to_jsonb(x) - 'id')::text) AS d
    FROM ${e.link} l JOIN ${e.table} x ON x.id = l.${e.linkColumn} WHERE l.uo = $1`, [uo]);
  return new Map(rows.map((r) => [r.key, r.d]));
}

async function fullRows(c: pg.Client, e: Entity, keys: readonly string[]): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  for (let i = 0; i < keys.length; i += 2000) {
    const { rows } = await c.query<{ key: string; row: Row }>(`
      SELECT k.key, to_jsonb(x) - 'id' AS row
      FROM unnest($1::text[]) AS k(key)
      JOIN ${e.table} x ON x.hash_kind IS NOT DISTINCT FROM nullif(split_part(k.key, ':', 1), '')
                       AND x.hash = decode(split_part(k.key, ':', 2), 'hex')`, [keys.slice(i, i + 2000)]);
    for (const r of rows) out.set(r.key, r.row);
  }
  return out;
}

async function aliases(c: pg.Client, uo: string): Promise<Map<string, { name: string; aliases: string[] }> | null> {
  const { rows: [t] } = await c.query<{ ok: boolean }>(`SELECT to_regclass('vulnerability_alias') IS NOT NULL AND to_regclass('vulnerability_self') IS NOT NULL AS ok`);
  if (!t.ok) return null;
  const { rows } = await c.query<{ key: string; name: string; aliases: string[] }>(`
    SELECT ${keyExpr('v')} AS key, v.name,
      coalesce((SELECT array_agg(s.x ORDER BY s.x) FROM (
        SELECT 'alias ' || ns.namespace || ' ' || a.name AS x
        FROM vulnerability_alias va JOIN alias a ON a.id = va.alias JOIN alias_namespace ns ON ns.id = a.namespace
        WHERE va.vulnerability = v.id
        UNION ALL
        SELECT 'self ' || ns.namespace || ' ' || a.name
        FROM vulnerability_self vs JOIN alias a ON a.id = vs.self JOIN alias_namespace ns ON ns.id = a.namespace
        WHERE vs.vulnerability = v.id) s), '{}') AS aliases
    FROM uo_vuln l JOIN vuln v ON v.id = l.vuln WHERE l.uo = $1`, [uo]);
  return new Map(rows.map((r) => [r.key, { name: r.name, aliases: r.aliases }]));
}

function differingColumns(a: Row, b: Row): string[] {
  const cols = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return cols.filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null));
}

const EXAMPLES = 3;

async function diffUpdater(ca: pg.Client, cb: pg.Client, updater: string, la: Latest | undefined, lb: Latest | undefined): Promise<UpdaterDiff> {
  const d: UpdaterDiff = {
    updater, kindA: la?.kind ?? null, kindB: lb?.kind ?? null, fingerprintA: la?.fingerprint ?? null, fingerprintB: lb?.fingerprint ?? null,
    rowsA: 0, rowsB: 0, onlyA: [], onlyB: [], changedKeys: [], changed: [], columnCounts: {}, onlyARows: [], onlyBRows: [],
    aliasesCompared: false, aliasedA: 0, aliasedB: 0, aliasDiffs: [],
  };
  const entity = ENTITIES[(la ?? lb)!.kind];
  if (!entity) throw new Error(`updater ${updater}: unknown update operation kind ${(la ?? lb)!.kind}`);
  // With different kinds on the two sides, each side is read as its own kind.
  const ea = la ? ENTITIES[la.kind] ?? entity : entity;
  const eb = lb ? ENTITIES[lb.kind] ?? entity : entity;
  const da = la ? await digests(ca, ea, la.id) : new Map<string, string>();
  const db = lb ? await digests(cb, eb, lb.id) : new Map<string, string>();
  d.rowsA = da.size;
  d.rowsB = db.size;
  for (const [k, v] of da) {
    const w = db.get(k);
    if (w === undefined) d.onlyA.push(k);
    else if (w !== v) d.changedKeys.push(k);
  }
  for (const k of db.keys()) if (!da.has(k)) d.onlyB.push(k);
  d.onlyA.sort();
  d.onlyB.sort();
  d.changedKeys.sort();

  const sample = d.changedKeys.slice(0, MAX_FULL_ROWS);
  const [ra, rb] = [await fullRows(ca, ea, sample), await fullRows(cb, eb, sample)];
  for (const key of sample) {
    const a = ra.get(key)!;
    const b = rb.get(key)!;
    const columns = differingColumns(a, b);
    for (const col of columns) d.columnCounts[col] = (d.columnCounts[col] ?? 0) + 1;
    d.changed.push({ key, a, b, columns });
  }
  d.onlyARows = [...(await fullRows(ca, ea, d.onlyA.slice(0, EXAMPLES))).values()];
  d.onlyBRows = [...(await fullRows(cb, eb, d.onlyB.slice(0, EXAMPLES))).values()];

  if (entity.kind === 'vulnerability' && la && lb) {
    const [aa, ab] = [await aliases(ca, la.id), await aliases(cb, lb.id)];
    if (aa && ab) {
      d.aliasesCompared = true;
      d.aliasedA = [...aa.values()].filter((x) => x.aliases.length > 0).length;
      d.aliasedB = [...ab.values()].filter((x) => x.aliases.length > 0).length;
      for (const [key, x] of aa) {
        const y = ab.get(key);
        if (y && JSON.stringify(x.aliases) !== JSON.stringify(y.aliases)) d.aliasDiffs.push({ key, name: x.name, a: x.aliases, b: y.aliases });
      }
      d.aliasDiffs.sort((p, q) => p.key.localeCompare(q.key));
    }
  }
  return d;
}

/** Compares every updater that has a latest update operation in A or B. */
export async function diffDatabases(urlA: string, urlB: string): Promise<UpdaterDiff[]> {
  return withClient(urlA, (ca) => withClient(urlB, async (cb) => {
    const [la, lb] = [await latestOps(ca), await latestOps(cb)];
    const updaters = [...new Set([...la.keys(), ...lb.keys()])].sort();
    const out: UpdaterDiff[] = [];
    for (const u of updaters) out.push(await diffUpdater(ca, cb, u, la.get(u), lb.get(u)));
    return out;
  }));
}

// ---------------------------------------------------------------------------------------------
// Report

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function value(v: unknown): string {
  return JSON.stringify(v ?? null);
}

function fullRow(r: Row, other?: Row, differing: readonly string[] = []): string {
  return Object.keys(r).sort().map((k) => {
    const mark = differing.includes(k);
    return `      ${mark ? '≠' : ' '} ${k}: ${value(r[k])}${mark && other ? `\n          B: ${value(other[k])}` : ''}`;
  }).join('\n');
}

export function formatDataReport(title: string, diffs: readonly UpdaterDiff[], examples = EXAMPLES): string {
  const out: string[] = [title, ''];
  out.push(table(
    ['updater', 'kind A/B', 'rows A', 'rows B', 'only A', 'only B', 'column diffs', 'aliased A', 'aliased B', 'alias diffs'],
    diffs.map((d) => [
      d.updater, d.kindA === d.kindB ? d.kindA ?? '-' : `${d.kindA ?? '-'}/${d.kindB ?? '-'}`,
      String(d.rowsA), String(d.rowsB), String(d.onlyA.length), String(d.onlyB.length), String(d.changedKeys.length),
      d.aliasesCompared ? String(d.aliasedA) : 'n/a', d.aliasesCompared ? String(d.aliasedB) : 'n/a',
      d.aliasesCompared ? String(d.aliasDiffs.length) : 'n/a',
    ]),
  ));
  for (const d of diffs) {
    out.push('', `== ${d.updater}: ${hasDifferences(d) ? 'DIFFERENT' : 'identical'}`);
    out.push(`   update operation fingerprint (informational, not compared): A=${value(d.fingerprintA)} B=${value(d.fingerprintB)}`);
    if (d.kindA !== d.kindB) out.push(`   latest update operation kind: A=${value(d.kindA)} B=${value(d.kindB)}`);
    const cols = Object.entries(d.columnCounts).sort((p, q) => q[1] - p[1] || p[0].localeCompare(q[0]));
    if (cols.length) {
      const note = d.changedKeys.length > d.changed.length ? ` (over the first ${d.changed.length} of ${d.changedKeys.length} rows)` : '';
      out.push(`   differing columns${note}: ${cols.map(([c, n]) => `${c} ×${n}`).join(', ')}`);
    }
    d.changed.slice(0, examples).forEach((c, i) => {
      out.push(`   -- row in both, columns differ #${i + 1}: ${c.key} (${c.columns.join(', ')}); A in full, B where different`, fullRow(c.a, c.b, c.columns));
    });
    d.onlyARows.slice(0, examples).forEach((r, i) => out.push(`   -- only in A (claircore) #${i + 1} of ${d.onlyA.length}`, fullRow(r)));
    d.onlyBRows.slice(0, examples).forEach((r, i) => out.push(`   -- only in B (clair-bundle) #${i + 1} of ${d.onlyB.length}`, fullRow(r)));
    d.aliasDiffs.slice(0, examples).forEach((x, i) => {
      out.push(`   -- aliases differ #${i + 1} of ${d.aliasDiffs.length}: ${x.key} ${x.name}`, `        A: ${x.a.join(', ') || '(none)'}`, `        B: ${x.b.join(', ') || '(none)'}`);
    });
  }
  return out.join('\n');
}

/** Every differing key, for the report file (the console shows the first few). */
export function formatKeyLists(diffs: readonly UpdaterDiff[]): string {
  const out: string[] = [];
  for (const d of diffs) {
    if (!hasDifferences(d)) continue;
    out.push(`== ${d.updater}`);
    if (d.onlyA.length) out.push(`only A (${d.onlyA.length}):`, ...d.onlyA.map((k) => `  ${k}`));
    if (d.onlyB.length) out.push(`only B (${d.onlyB.length}):`, ...d.onlyB.map((k) => `  ${k}`));
    if (d.changed.length) out.push(`columns differ (${d.changedKeys.length}):`, ...d.changed.map((c) => `  ${c.key}  ${c.columns.join(',')}`));
    if (d.aliasDiffs.length) out.push(`aliases differ (${d.aliasDiffs.length}):`, ...d.aliasDiffs.map((x) => `  ${x.key}  A=[${x.a.join(', ')}] B=[${x.b.join(', ')}]`));
  }
  return out.join('\n');
}
