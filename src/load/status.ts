import pg from 'pg';
import { runSql } from './db.js';

export interface Status {
  schemaVersion: number | null;
  history: Record<string, unknown>[];
  updaters: Record<string, unknown>[];
}

/** What is loaded: bundle history and each updater's latest update operation. */
export async function readStatus(client: pg.ClientBase, limit = 10): Promise<Status> {
  const [{ has_ours, has_clair }] = (await client.query<{ has_ours: boolean; has_clair: boolean }>(
    "SELECT to_regclass('clair_bundle.load_history') IS NOT NULL AS has_ours, to_regclass('latest_update_operations') IS NOT NULL AS has_clair",
  )).rows;
  const schemaVersion = has_clair
    ? Number((await client.query<{ v: number }>('SELECT max(version) AS v FROM libvuln_migrations')).rows[0]?.v ?? null)
    : null;
  const history = has_ours ? await runSql(client, 'status-history', { limit }) : [];
  const updaters = has_clair && has_ours ? await runSql(client, 'status-updaters') : [];
  return { schemaVersion, history, updaters };
}
