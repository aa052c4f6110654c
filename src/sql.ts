import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './version.js';

/** The one loader of the statement files in sql/. */
export const SQL_DIR = path.join(PACKAGE_ROOT, 'sql');
export const MIGRATIONS_DIR = path.join(SQL_DIR, 'migrations');

const cache = new Map<string, string>();

/** Reads `sql/load/<name>.sql`. */
export function loadSql(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(SQL_DIR, 'load', `${name}.sql`), 'utf8');
    cache.set(name, text);
  }
  return text;
}

const VARIABLE = /:'([a-z_]+)'/g;

/**
 * Statement files use psql's `:'name'` variables so `load.sql` can run them under psql; for the
 * node-postgres path they become `$1…` parameters. Values are never spliced into SQL.
 */
export function bindVariables(sql: string, values: Readonly<Record<string, unknown>>): { text: string; values: unknown[] } {
  const order: string[] = [];
  const text = sql.replace(VARIABLE, (_m, name: string) => {
    if (!(name in values)) throw new Error(`SQL variable :'${name}' has no value`);
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, values: order.map((n) => values[n]) };
}

export function variablesOf(sql: string): string[] {
  return [...new Set([...sql.matchAll(VARIABLE)].map((m) => m[1]))];
}
