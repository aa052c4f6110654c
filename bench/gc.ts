/**
 * Clair's garbage collection, query for query (claircore v1.5.54 datastore/postgres/gc.go,
 * clair-matcher-db.md §6.1): eligible update operations beyond `keep` per updater (by date),
 * at most GC_THROTTLE of them deleted (uo_vuln / uo_enrich cascade), then for every distinct
 * (updater, kind) the orphaned vuln / enrichment rows deleted, GOMAXPROCS cleanups at a time.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const GC_THROTTLE = 50;

const ELIGIBLE = `
WITH ordered_ops AS (
    SELECT array_agg(ref ORDER BY date DESC) AS refs FROM update_operation GROUP BY updater
)
SELECT ordered_ops.refs[$1:]
FROM ordered_ops
WHERE array_length(ordered_ops.refs, 1) > $2;
`;
const DELETE_UOS = `DELETE FROM update_operation WHERE ref = ANY($1::uuid[]);`;
const DISTINCT_UPDATERS = `SELECT DISTINCT(updater), kind FROM update_operation;`;
const DELETE_ORPHANED_VULNS = `
DELETE FROM vuln v1 USING
	vuln v2
	LEFT JOIN uo_vuln uvl
		ON v2.id = uvl.vuln
	WHERE uvl.vuln IS NULL
	AND v2.updater = $1
AND v1.id = v2.id;
`;
const DELETE_ORPHANED_ENRICHMENTS = `
DELETE FROM enrichment e1 USING
	enrichment e2
	LEFT JOIN uo_enrich uen
		ON e2.id = uen.enrich
	WHERE uen.enrich IS NULL
	AND e2.updater = $1
	AND e1.id = e2.id;
`;

export interface GcResult {
  keep: number;
  eligible: number;
  deletedUos: number;
  deletedVulns: number;
  deletedEnrichments: number;
  seconds: { eligible: number; deleteUos: number; cleanup: number; total: number };
  /** The slowest per-updater orphan cleanup. */
  slowestCleanup: { updater: string; kind: string; seconds: number; rows: number } | null;
}

export async function clairGc(db: string, keep: number, applicationName = 'clair-gc'): Promise<GcResult> {
  const t0 = Date.now();
  const parallel = Math.max(1, os.cpus().length);
  const pool = new pg.Pool({ connectionString: db, max: parallel, application_name: applicationName });
  try {
    const refs = (await pool.query<{ refs: string[] }>(ELIGIBLE, [keep + 1, keep])).rows.flatMap((r) => r.refs);
    const t1 = Date.now();
    const ops = refs.length >= GC_THROTTLE ? refs.slice(0, GC_THROTTLE) : refs;
    const deletedUos = ops.length ? (await pool.query(DELETE_UOS, [ops])).rowCount ?? 0 : 0;
    const t2 = Date.now();
    const updaters = (await pool.query<{ updater: string; kind: string }>(DISTINCT_UPDATERS)).rows;
    let deletedVulns = 0;
    let deletedEnrichments = 0;
    let slowest: GcResult['slowestCleanup'] = null;
    const queue = [...updaters];
    await Promise.all(Array.from({ length: parallel }, async () => {
      for (let u = queue.shift(); u; u = queue.shift()) {
        const s = Date.now();
        const sql = u.kind === 'vulnerability' ? DELETE_ORPHANED_VULNS : u.kind === 'enrichment' ? DELETE_ORPHANED_ENRICHMENTS : null;
        if (!sql) continue;
        const n = (await pool.query(sql, [u.updater])).rowCount ?? 0;
        if (u.kind === 'vulnerability') deletedVulns += n;
        else deletedEnrichments += n;
        const seconds = (Date.now() - s) / 1000;
        if (!slowest || seconds > slowest.seconds) slowest = { updater: u.updater, kind: u.kind, seconds, rows: n };
      }
    }));
    const t3 = Date.now();
    return {
      keep, eligible: refs.length, deletedUos, deletedVulns, deletedEnrichments,
      seconds: { eligible: (t1 - t0) / 1000, deleteUos: (t2 - t1) / 1000, cleanup: (t3 - t2) / 1000, total: (t3 - t0) / 1000 },
      slowestCleanup: slowest,
    };
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const db = opt('--db');
  if (!db) throw new Error('usage: gc.js --db URL [--keep N]');
  process.stdout.write(JSON.stringify(await clairGc(db, Number(opt('--keep') ?? 10))) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`gc failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
