-- Clair's own per-updater locks (ctxlock: FNV-1a 64 of the updater name) and the
-- garbage-collection lock, held until COMMIT, so Clair's updaters and GC skip while we load.
SELECT count(pg_advisory_xact_lock(k))
FROM (
  SELECT (u->>'lock_key')::bigint AS k FROM stage_manifest m, jsonb_array_elements(m.doc->'updaters') u
  UNION
  SELECT -5176715297593093589
) keys;
