import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { adminUrl, urlFor, withAdmin } from '../../helpers/db.js';

export { adminUrl, urlFor, withAdmin };

/** A new database cloned from `template` (a schema template or a database loaded earlier). */
export async function cloneDb(template: string, prefix = 'f'): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (c) => {
    // CREATE DATABASE … TEMPLATE needs the template without connections.
    for (let i = 0; ; i++) {
      try {
        await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (err) {
        if (i > 50 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return { name, url: urlFor(name) };
}

export async function dropDb(name: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
}

export async function withDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(url);
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  return withDb(url, async (c) => (await c.query<R>(sql, params)).rows);
}

export const CLAIR_TABLES = [
  'update_operation', 'vuln', 'uo_vuln', 'enrichment', 'uo_enrich', 'updater_status',
  'alias_namespace', 'alias', 'vulnerability_alias', 'vulnerability_self', 'latest_update_operations',
  'libvuln_migrations',
];

/**
 * A full dump of Clair's tables, every column (ids included), as one md5 per table: equal
 * fingerprints = byte-for-byte equal ordered dumps. Our own tables are listed separately.
 */
export async function exactDump(url: string): Promise<Record<string, string>> {
  return withDb(url, async (c) => {
    const out: Record<string, string> = {};
    for (const t of [...CLAIR_TABLES, 'clair_bundle.update_operation_source', 'clair_bundle.mapping_document']) {
      const exists = (await c.query('SELECT to_regclass($1) IS NOT NULL AS e', [t])).rows[0].e;
      if (!exists) continue;
      const r = (await c.query(`SELECT count(*) AS n, md5(coalesce(string_agg(x.r, E'\\n' ORDER BY x.r), '')) AS h FROM (SELECT t::text AS r FROM ${t} t) x`)).rows[0];
      out[t] = `${r.n}:${r.h}`;
    }
    return out;
  });
}

/** Only Clair's tables of an exact dump (the contract: these must be as before). */
export function clairPart(d: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(d).filter(([k]) => CLAIR_TABLES.includes(k)));
}

/**
 * Clair's tables without ids, refs and times, links expressed through hashes and updater names:
 * what a clean load must leave, whatever sequence values earlier rolled-back attempts used up.
 */
export async function logicalDump(url: string): Promise<Record<string, string>> {
  const q: Record<string, string> = {
    uo: `SELECT updater || ' ' || coalesce(kind, '') || ' ' || coalesce(fingerprint, '') FROM update_operation`,
    vuln: `SELECT (to_jsonb(v) - 'id')::text FROM vuln v`,
    uo_vuln: `SELECT o.updater || ' ' || encode(v.hash, 'hex') FROM uo_vuln l JOIN update_operation o ON o.id = l.uo JOIN vuln v ON v.id = l.vuln`,
    latest: `SELECT l.updater || ' ' || l.kind || ' ' || (SELECT count(*) FROM uo_vuln u WHERE u.uo = l.id) || ' ' || (SELECT count(*) FROM uo_enrich u WHERE u.uo = l.id) FROM latest_update_operations l`,
    enrichment: `SELECT encode(hash, 'hex') || ' ' || updater || ' ' || tags::text || ' ' || data::text FROM enrichment`,
    uo_enrich: `SELECT o.updater || ' ' || encode(e.hash, 'hex') FROM uo_enrich l JOIN update_operation o ON o.id = l.uo JOIN enrichment e ON e.id = l.enrich`,
    aliases: `SELECT encode(v.hash, 'hex') || ' alias ' || n.namespace || '-' || a.name FROM vulnerability_alias va JOIN vuln v ON v.id = va.vulnerability
      JOIN alias a ON a.id = va.alias JOIN alias_namespace n ON n.id = a.namespace
      UNION ALL SELECT encode(v.hash, 'hex') || ' self ' || n.namespace || '-' || a.name FROM vulnerability_self vs JOIN vuln v ON v.id = vs.vulnerability
      JOIN alias a ON a.id = vs.self JOIN alias_namespace n ON n.id = a.namespace`,
    mappings: `SELECT name || ' ' || sha256 FROM clair_bundle.mapping_document`,
  };
  return withDb(url, async (c) => {
    const out: Record<string, string> = {};
    for (const [k, sql] of Object.entries(q)) {
      if (k === 'mappings' && !(await c.query("SELECT to_regclass('clair_bundle.mapping_document') IS NOT NULL AS e")).rows[0].e) continue;
      const r = (await c.query(`SELECT count(*) AS n, md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) AS h FROM (${sql}) s(x)`)).rows[0];
      out[k] = `${r.n}:${r.h}`;
    }
    return out;
  });
}

/** Waits until no session of the loader (application_name clair-bundle) is left in `db`. */
export async function waitForLoaderGone(db: string, timeoutMs = 30_000): Promise<void> {
  await withAdmin(async (c) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const n = (await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'clair-bundle'", [db])).rows[0].n;
      if (n === 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`loader sessions still open in ${db} after ${timeoutMs} ms`);
  });
}

/**
 * Clair's matcher query (clair-matcher-db.md §5.1) for one package of one distribution, in a read
 * transaction like the matcher's, with the aliases of the returned rows (claircore main).
 */
export const MATCHER_QUERY = `
  SELECT vuln.id, name, description, issued, links, severity, normalized_severity, package_name, package_version,
    package_module, package_arch, package_kind, dist_id, dist_name, dist_version, dist_version_code_name, dist_version_id,
    dist_arch, dist_cpe, dist_pretty_name, arch_operation, repo_name, repo_key, repo_uri, fixed_in_version, vuln.updater,
    vuln.not_vulnerable
  FROM vuln JOIN uo_vuln ON vuln.id = uo_vuln.vuln
  JOIN latest_update_operations ON latest_update_operations.id = uo_vuln.uo
  WHERE latest_update_operations.kind = 'vulnerability'
    AND ((package_name = $1 AND package_kind = $2))
    AND dist_id = $3 AND dist_name = $4 AND dist_version_id = $5`;
