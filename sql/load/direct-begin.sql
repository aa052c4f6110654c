-- Initial load, after fast-path-begin.sql set vuln's indexes and the links' foreign keys aside:
-- the biggest changed vulnerability updater's CSV is copied straight into vuln (COPY … FREEZE)
-- instead of into stage_vuln and then INSERT … SELECT — its rows are written once, and already
-- frozen and all-visible, so neither Clair's first reads nor autovacuum rewrite them later.
-- COPY may freeze rows only in a table truncated in the same transaction: vuln is empty (checked
-- under fast-path-begin.sql's locks), so TRUNCATE changes no row. Until direct-end.sql, vuln.hash_kind
-- defaults to 'md5' (the CSV has no such column). Anything else (a refresh, a role that does not own
-- vuln, a foreign key into vuln this tool does not know) stages every file as before.
CREATE TEMP TABLE stage_direct_plan (name text NOT NULL, file text NOT NULL) ON COMMIT DROP;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM stage_rebuild)
      OR EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = 'vuln'::regclass) THEN
    RETURN;
  END IF;
  INSERT INTO stage_direct_plan (name, file)
  SELECT p.name, u->>'file'
  FROM stage_plan p
  JOIN (stage_manifest m CROSS JOIN jsonb_array_elements(m.doc->'updaters') u) ON u->>'name' = p.name
  WHERE p.changed AND p.kind = 'vulnerability' AND p.row_count > 0
  -- The same updater resolve-vulns.sql calls the biggest.
  ORDER BY p.row_count DESC, p.name
  LIMIT 1;
  IF FOUND THEN
    TRUNCATE vuln;
    ALTER TABLE vuln ALTER COLUMN hash_kind SET DEFAULT 'md5';
  END IF;
END
$$;
SELECT name, file FROM stage_direct_plan;
