import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** Per-test databases cloned from the schema templates built by global-setup.ts. */
export type SchemaVersion = 16 | 20;

export function adminUrl(): string {
  return inject('adminUrl');
}

export function urlFor(db: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${db}`;
  return u.toString();
}

export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(adminUrl());
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database with Clair's matcher schema at `version`; returns its URL. */
export async function createClairDb(version: SchemaVersion): Promise<string> {
  const name = `t_${version}_${randomBytes(5).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE tpl_clair${version}`));
  return urlFor(name);
}

export async function createEmptyDb(): Promise<string> {
  const name = `t_empty_${randomBytes(5).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  return urlFor(name);
}

export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

const CLAIR_TABLES = [
  'update_operation', 'vuln', 'uo_vuln', 'enrichment', 'uo_enrich', 'updater_status',
  'alias_namespace', 'alias', 'vulnerability_alias', 'vulnerability_self', 'latest_update_operations',
];

/** A full, ordered text dump of Clair's tables (every column), for byte-for-byte comparisons. */
export async function dumpClairTables(url: string): Promise<string> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    const parts: string[] = [];
    for (const t of CLAIR_TABLES) {
      const exists = (await c.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [t])).rows[0].e;
      if (!exists) continue;
      const rows = (await c.query(`SELECT t::text AS r FROM ${t} t ORDER BY 1`)).rows.map((r) => r.r);
      parts.push(`## ${t} (${rows.length})`, ...rows);
    }
    return parts.join('\n');
  } finally {
    await c.end();
  }
}

/**
 * Clair's tables with ids, refs and times taken out (and links expressed through hashes and
 * updater names), for comparing two databases loaded by different paths.
 */
export async function logicalDump(url: string): Promise<string> {
  const q = [
    `SELECT 'uo' AS t, updater || ' ' || coalesce(kind,'') || ' ' || coalesce(fingerprint,'') AS r FROM update_operation`,
    `SELECT 'vuln' AS t, (to_jsonb(v) - 'id')::text AS r FROM vuln v`,
    `SELECT 'uo_vuln' AS t, o.updater || ' ' || encode(v.hash,'hex') AS r FROM uo_vuln l JOIN update_operation o ON o.id = l.uo JOIN vuln v ON v.id = l.vuln`,
    `SELECT 'dangling' AS t, 'uo_vuln ' || l.vuln AS r FROM uo_vuln l WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.id = l.vuln)`,
    `SELECT 'latest' AS t, updater || ' ' || kind AS r FROM latest_update_operations`,
    `SELECT 'enrichment' AS t, encode(hash,'hex') || ' ' || updater || ' ' || tags::text || ' ' || data::text AS r FROM enrichment`,
    `SELECT 'uo_enrich' AS t, o.updater || ' ' || encode(e.hash,'hex') AS r FROM uo_enrich l JOIN update_operation o ON o.id = l.uo JOIN enrichment e ON e.id = l.enrich`,
  ];
  const [{ aliases }] = await query<{ aliases: boolean }>(url, "SELECT to_regclass('vulnerability_alias') IS NOT NULL AS aliases");
  if (aliases) {
    q.push(
      `SELECT 'alias' AS t, encode(v.hash,'hex') || ' ' || ns.namespace || ':' || a.name AS r FROM vulnerability_alias l
        JOIN vuln v ON v.id = l.vulnerability JOIN alias a ON a.id = l.alias JOIN alias_namespace ns ON ns.id = a.namespace`,
      `SELECT 'self' AS t, encode(v.hash,'hex') || ' ' || ns.namespace || ':' || a.name AS r FROM vulnerability_self l
        JOIN vuln v ON v.id = l.vulnerability JOIN alias a ON a.id = l.self JOIN alias_namespace ns ON ns.id = a.namespace`,
      // Links to a vulnerability that is not there (the joins above leave them out): a load with
      // trusted links inserts them without foreign-key checks.
      `SELECT 'dangling' AS t, 'vulnerability_alias ' || l.vulnerability AS r FROM vulnerability_alias l WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.id = l.vulnerability)
        UNION ALL SELECT 'dangling', 'vulnerability_self ' || l.vulnerability FROM vulnerability_self l WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.id = l.vulnerability)`,
    );
  }
  const rows: string[] = [];
  for (const sql of q) {
    for (const x of await query<{ t: string; r: string }>(url, sql)) {
      // A NULL would print as "null" and hide a column missing from the query.
      if (typeof x.t !== 'string' || typeof x.r !== 'string') throw new Error(`logicalDump: a row without t and r from: ${sql}`);
      rows.push(`${x.t} ${x.r}`);
    }
  }
  return rows.sort().join('\n');
}
