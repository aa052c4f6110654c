-- Initial load, after fast-path-begin.sql set vuln's indexes and the links' foreign keys aside:
-- the biggest changed vulnerability updater's CSV is copied straight into vuln (COPY … FREEZE)
-- instead of into stage_vuln and then INSERT … SELECT — its rows are written once, and already
-- frozen and all-visible, so neither Clair's first reads nor autovacuum rewrite them later.
-- COPY may freeze rows only in a table truncated in the same transaction: vuln is empty (checked
-- under fast-path-begin.sql's locks), so TRUNCATE changes no row. Until direct-end.sql, vuln.hash_kind
-- defaults to 'md5' (the CSV has no such column). Anything else (a refresh, a role that does not own
-- vuln, a foreign key into vuln this tool does not know) stages every file as before.
-- With trusted links the links' foreign keys stay (fast-path-begin.sql): their tables, empty as
-- vuln is and locked with it, are truncated along with it.
-- shift: the loader writes the ids itself, from a block of vuln's sequence reserved here: the file's
-- record n gets id shift + n, so ids follow the file's records (direct-end.sql, record-keys.sql),
-- also where a schema < 18, whose vuln lacks not_vulnerable, has the loader leave the "not
-- vulnerable" records out of the file it copies; and COPY calls no nextval() per row (8.9 M rows:
-- about 1.4 s of the backend, which bounds that COPY). NULL (an id without Clair's sequence, on
-- schema >= 18): the COPY takes the column's default, in file order.
CREATE TEMP TABLE stage_direct_plan (name text NOT NULL, file text NOT NULL, shift bigint) ON COMMIT DROP;
-- A row when node checked the copied rows as it converted them (direct-checked.sql).
CREATE TEMP TABLE stage_direct_checked (long_ids bigint[] NOT NULL) ON COMMIT DROP;
DO $$
DECLARE
  referencing regclass[] := ARRAY(SELECT DISTINCT conrelid::regclass FROM pg_constraint WHERE confrelid = 'vuln'::regclass AND contype = 'f');
  seq text := pg_get_serial_sequence('vuln', 'id');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM stage_rebuild)
      OR NOT referencing <@ array_remove(ARRAY['uo_vuln'::regclass, to_regclass('vulnerability_alias'), to_regclass('vulnerability_self')], NULL) THEN
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
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF seq IS NOT NULL THEN
    UPDATE stage_direct_plan d
    SET shift = setval(seq, nextval(seq) + p.row_count - 1) - p.row_count
    FROM stage_plan p WHERE p.name = d.name;
  ELSIF NOT (SELECT has_not_vulnerable FROM stage_run) THEN
    DELETE FROM stage_direct_plan; -- (not Clair's bigserial id: everything is staged)
    RETURN;
  END IF;
  EXECUTE format('TRUNCATE %s', array_to_string('vuln'::regclass || referencing, ', '));
  ALTER TABLE vuln ALTER COLUMN hash_kind SET DEFAULT 'md5';
END
$$;
SELECT name, file, shift FROM stage_direct_plan;
