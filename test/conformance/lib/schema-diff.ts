/**
 * Compares two `oracle schema` dumps (test/oracle/schema.go): A = claircore's migrations,
 * B = our fixture (sql/clair-schema). Every difference becomes one line naming the object,
 * the aspect (table, column, type, nullability, default, identity, position, index,
 * constraint, view definition, comment, …) and both values.
 */

export interface Column {
  position: number;
  name: string;
  type: string;
  not_null: boolean;
  default: string | null;
  identity?: string;
  generated?: string;
  comment?: string | null;
}
export interface Constraint { name: string; type: string; definition: string }
export interface Index { name: string; unique: boolean; primary: boolean; constraint?: string; definition: string }
export interface Relation {
  name: string;
  columns: Column[];
  constraints?: Constraint[];
  indexes?: Index[];
  definition?: string;
  populated?: boolean;
  comment?: string | null;
}
export interface SchemaDump {
  schema: string;
  server_version_num: number;
  libvuln_migrations: number[];
  extensions: string[];
  types: { name: string; kind: string; subtype?: string; multirange?: string; labels?: string[]; comment?: string | null }[];
  sequences: { name: string; type: string; owned_by?: string; identity: boolean }[];
  tables: Relation[];
  views: Relation[];
  materialized_views: Relation[];
  functions: { name: string; arguments: string; result: string; definition: string }[];
  triggers: { table: string; name: string; definition: string }[];
}

export interface SchemaDifference {
  /** What kind of object/attribute differs, e.g. `column.default`, `index`, `view.definition`. */
  aspect: string;
  /** The object, e.g. `table vuln.not_vulnerable`. */
  object: string;
  /** claircore (A) and fixture (B) values; `(absent)` when the object is missing on one side. */
  a: string;
  b: string;
}

export const ABSENT = '(absent)';

function show(v: unknown): string {
  if (v === undefined || v === null) return 'NULL';
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v);
}

function byName<T>(xs: readonly T[] | undefined, key: (x: T) => string): Map<string, T> {
  return new Map((xs ?? []).map((x) => [key(x), x]));
}

/** Walks the union of names; calls `both` for common ones and reports one-sided ones. */
function pair<T>(
  out: SchemaDifference[], aspect: string, label: (name: string) => string,
  a: readonly T[] | undefined, b: readonly T[] | undefined, key: (x: T) => string,
  describe: (x: T) => string, both: (x: T, y: T, name: string) => void,
): void {
  const ma = byName(a, key);
  const mb = byName(b, key);
  for (const name of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
    const x = ma.get(name);
    const y = mb.get(name);
    if (x && y) both(x, y, name);
    else out.push({ aspect, object: label(name), a: x ? describe(x) : ABSENT, b: y ? describe(y) : ABSENT });
  }
}

function fields<T extends object>(out: SchemaDifference[], aspect: string, object: string, x: T, y: T, keys: readonly (keyof T)[]): void {
  for (const k of keys) {
    const vx = x[k] ?? null;
    const vy = y[k] ?? null;
    if (JSON.stringify(vx) !== JSON.stringify(vy)) out.push({ aspect: `${aspect}.${String(k)}`, object, a: show(vx), b: show(vy) });
  }
}

function colDesc(c: Column): string {
  return `${c.type}${c.not_null ? ' NOT NULL' : ''}${c.default !== null ? ` DEFAULT ${c.default}` : ''}${c.identity ? ` GENERATED ${c.identity.toUpperCase()} AS IDENTITY` : ''}`;
}

function relation(out: SchemaDifference[], kind: string, x: Relation, y: Relation): void {
  const obj = `${kind} ${x.name}`;
  pair(out, 'column', (n) => `${obj}.${n}`, x.columns, y.columns, (c) => c.name, colDesc, (cx, cy, n) => {
    const o = `${obj}.${n}`;
    if (cx.type !== cy.type) out.push({ aspect: 'column.type', object: o, a: cx.type, b: cy.type });
    if (cx.not_null !== cy.not_null) out.push({ aspect: 'column.nullability', object: o, a: cx.not_null ? 'NOT NULL' : 'NULL', b: cy.not_null ? 'NOT NULL' : 'NULL' });
    fields(out, 'column', o, cx, cy, ['default', 'identity', 'generated', 'position', 'comment']);
  });
  pair(out, 'constraint', (n) => `${obj} constraint ${n}`, x.constraints, y.constraints, (c) => c.name,
    (c) => `${c.type}: ${c.definition}`, (cx, cy, n) => fields(out, 'constraint', `${obj} constraint ${n}`, cx, cy, ['type', 'definition']));
  pair(out, 'index', (n) => `${obj} index ${n}`, x.indexes, y.indexes, (i) => i.name,
    (i) => i.definition, (ix, iy, n) => fields(out, 'index', `${obj} index ${n}`, ix, iy, ['definition', 'unique', 'primary', 'constraint']));
  if ((x.definition ?? '') !== (y.definition ?? '')) out.push({ aspect: `${kind}.definition`, object: obj, a: show(x.definition), b: show(y.definition) });
  fields(out, kind, obj, x, y, ['populated', 'comment']);
}

export interface SchemaDiffOptions {
  /**
   * libvuln_migrations rows of B above A's highest version that are data-only (they change no
   * catalog object) and therefore expected in B: e.g. 20 when comparing claircore v1.5.54 (19)
   * with our fixture at 20.
   */
  dataOnlyMigrations?: readonly number[];
}

export function diffSchemas(a: SchemaDump, b: SchemaDump, opts: SchemaDiffOptions = {}): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const maxA = Math.max(0, ...a.libvuln_migrations);
  const extra = new Set(opts.dataOnlyMigrations ?? []);
  const migB = b.libvuln_migrations.filter((v) => !(v > maxA && extra.has(v)));
  if (JSON.stringify(a.libvuln_migrations) !== JSON.stringify(migB)) {
    out.push({ aspect: 'libvuln_migrations', object: 'libvuln_migrations rows', a: a.libvuln_migrations.join(','), b: b.libvuln_migrations.join(',') });
  }
  pair(out, 'extension', (n) => `extension ${n}`, a.extensions, b.extensions, (e) => e, (e) => e, () => undefined);
  pair(out, 'type', (n) => `type ${n}`, a.types, b.types, (t) => t.name, (t) => `${t.kind}${t.subtype ? ` of ${t.subtype}` : ''}`,
    (x, y, n) => fields(out, 'type', `type ${n}`, x, y, ['kind', 'subtype', 'multirange', 'labels', 'comment']));
  pair(out, 'sequence', (n) => `sequence ${n}`, a.sequences, b.sequences, (s) => s.name, (s) => `${s.type} owned by ${s.owned_by ?? '-'}`,
    (x, y, n) => fields(out, 'sequence', `sequence ${n}`, x, y, ['type', 'owned_by', 'identity']));
  for (const [kind, xa, xb] of [
    ['table', a.tables, b.tables], ['view', a.views, b.views], ['materialized view', a.materialized_views, b.materialized_views],
  ] as const) {
    pair(out, kind, (n) => `${kind} ${n}`, xa, xb, (r) => r.name, (r) => `${r.columns.length} columns`, (x, y) => relation(out, kind, x, y));
  }
  pair(out, 'function', (n) => `function ${n}`, a.functions, b.functions, (f) => `${f.name}(${f.arguments})`, (f) => f.result,
    (x, y, n) => fields(out, 'function', `function ${n}`, x, y, ['result', 'definition']));
  pair(out, 'trigger', (n) => `trigger ${n}`, a.triggers, b.triggers, (t) => `${t.table}.${t.name}`, (t) => t.definition,
    (x, y, n) => fields(out, 'trigger', `trigger ${n}`, x, y, ['definition']));
  return out;
}

/** One line per difference, for the console and the report file. */
export function formatSchemaDiffs(diffs: readonly SchemaDifference[]): string {
  if (diffs.length === 0) return '  (no differences)';
  const w = Math.max(...diffs.map((d) => d.aspect.length));
  return diffs.map((d) => `  ${d.aspect.padEnd(w)}  ${d.object}\n  ${' '.repeat(w)}    claircore: ${d.a}\n  ${' '.repeat(w)}    fixture:   ${d.b}`).join('\n');
}
