-- Initial load into an EMPTY vuln/uo_vuln (a new Clair, which answers "not initialized" until
-- data exists): set aside the secondary indexes, the (hash_kind, hash) unique constraint and the
-- foreign keys of uo_vuln, exactly as the catalog defines them, so the rows go in without
-- per-row index and foreign-key work. fast-path-end.sql re-creates them, same names, same
-- definitions, inside this transaction. On a non-empty table nothing happens here.
CREATE TEMP TABLE stage_rebuild (ord int NOT NULL, tbl regclass NOT NULL, name text NOT NULL, def text NOT NULL) ON COMMIT DROP;
DO $$
DECLARE
  r record;
BEGIN
  IF EXISTS (SELECT 1 FROM vuln) OR EXISTS (SELECT 1 FROM uo_vuln) THEN
    RETURN;
  END IF;
  -- Setting indexes and constraints aside needs the tables' owner (and CREATE on their schema); a
  -- role with only the grants of README "Least privilege" (PostgreSQL 17+) loads the normal way.
  IF NOT (pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'vuln'::regclass), 'USAGE')
      AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'uo_vuln'::regclass), 'USAGE')
      AND has_schema_privilege((SELECT relnamespace FROM pg_class WHERE oid = 'vuln'::regclass), 'CREATE')
      AND has_table_privilege('update_operation', 'REFERENCES') AND has_table_privilege('vuln', 'REFERENCES')) THEN
    RAISE NOTICE 'initial load without the fast path: role % does not own vuln and uo_vuln', current_user;
    RETURN;
  END IF;
  -- Both tables at once, in the order Clair's matcher query takes them (vuln, then uo_vuln): the
  -- statements below lock uo_vuln before vuln, and a reader holding vuln while it waits for
  -- uo_vuln would otherwise deadlock with this load.
  LOCK TABLE vuln, uo_vuln IN ACCESS EXCLUSIVE MODE;
  -- 1: unique constraints of vuln; 2: plain indexes of vuln and uo_vuln; 3: uo_vuln's foreign keys.
  INSERT INTO stage_rebuild
  SELECT 1, c.conrelid, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c WHERE c.conrelid = 'vuln'::regclass AND c.contype = 'u';
  INSERT INTO stage_rebuild
  SELECT 2, i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
  WHERE i.indrelid IN ('vuln'::regclass, 'uo_vuln'::regclass) AND NOT i.indisprimary
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
  INSERT INTO stage_rebuild
  SELECT 3, c.conrelid, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c WHERE c.conrelid = 'uo_vuln'::regclass AND c.contype = 'f';
  FOR r IN SELECT * FROM stage_rebuild ORDER BY ord DESC, name LOOP
    IF r.ord = 2 THEN
      EXECUTE format('DROP INDEX %s', (SELECT format('%I.%I', n.nspname, r.name) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = r.tbl));
    ELSE
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.name);
    END IF;
  END LOOP;
END
$$;
