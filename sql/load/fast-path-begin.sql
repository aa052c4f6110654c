-- Initial load into an EMPTY vuln/uo_vuln (a new Clair, which answers "not initialized" until
-- data exists): set aside the secondary indexes, the (hash_kind, hash) unique constraint, the
-- primary keys of uo_vuln/vulnerability_alias/vulnerability_self and the foreign keys of the link tables,
-- exactly as the catalog defines them, so the rows go in without per-row index and foreign-key
-- work (a foreign-key trigger per link row is most of the cost otherwise). fast-path-end.sql
-- re-creates them, same names, same definitions, inside this transaction, after the links are
-- in. On a non-empty table nothing happens here.
CREATE TEMP TABLE stage_rebuild (ord int NOT NULL, tbl regclass NOT NULL, name text NOT NULL, def text NOT NULL) ON COMMIT DROP;
-- Re-creates what is set aside in stage_rebuild, of table `only_tbl` (of every table: NULL), in
-- dependency order: unique constraints and primary keys, indexes, then foreign keys (each validated
-- by one set-based check); returns how many. For fast-path-vuln.sql and fast-path-end.sql.
CREATE OR REPLACE FUNCTION pg_temp.recreate_set_aside(only_tbl regclass) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  FOR r IN SELECT * FROM stage_rebuild WHERE only_tbl IS NULL OR tbl = only_tbl ORDER BY ord, name LOOP
    IF r.ord = 2 THEN
      EXECUTE r.def;
    ELSE
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.name, r.def);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
DO $$
DECLARE
  r record;
  -- The tables whose rows this load appends: vuln and its links (the alias links from schema 17).
  tbls regclass[] := array_remove(ARRAY['vuln'::regclass, 'uo_vuln'::regclass,
    to_regclass('vulnerability_alias'), to_regclass('vulnerability_self')], NULL);
  links regclass[] := tbls[2:];
BEGIN
  IF EXISTS (SELECT 1 FROM vuln) OR EXISTS (SELECT 1 FROM uo_vuln) THEN
    RETURN;
  END IF;
  -- Setting indexes and constraints aside needs the tables' owner (and CREATE on their schema); a
  -- role with only the grants of README "Least privilege" (PostgreSQL 17+) loads the normal way.
  IF NOT (SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c WHERE c.oid = ANY (tbls))
      OR NOT has_schema_privilege((SELECT relnamespace FROM pg_class WHERE oid = 'vuln'::regclass), 'CREATE')
      OR NOT (SELECT bool_and(has_table_privilege(f.confrelid, 'REFERENCES')) FROM pg_constraint f WHERE f.conrelid = ANY (links) AND f.contype = 'f') THEN
    RAISE NOTICE 'initial load without the fast path: role % does not own vuln and its link tables', current_user;
    RETURN;
  END IF;
  -- All at once, in the order Clair's matcher query takes them (vuln, then its links): the
  -- statements below lock the link tables before vuln, and a reader holding vuln while it waits
  -- for uo_vuln would otherwise deadlock with this load.
  EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', array_to_string(tbls, ', '));
  IF EXISTS (SELECT 1 FROM vuln) OR EXISTS (SELECT 1 FROM uo_vuln) THEN
    RETURN; -- someone wrote while we waited for the locks
  END IF;
  -- 1: unique constraints of vuln and primary keys of the link tables; 2: plain indexes of vuln
  -- and uo_vuln; 3: the link tables' foreign keys. (vuln's own primary key stays: ids grow.)
  INSERT INTO stage_rebuild
  SELECT 1, c.conrelid, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  WHERE (c.conrelid = 'vuln'::regclass AND c.contype = 'u')
     OR (c.conrelid = ANY (links) AND c.contype = 'p');
  INSERT INTO stage_rebuild
  SELECT 2, i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
  WHERE i.indrelid = ANY (tbls) AND NOT i.indisprimary
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
  -- With trusted links (create-staging.sql) the foreign keys stay: no trigger fires for the link
  -- rows, and nothing needs validating afterwards.
  INSERT INTO stage_rebuild
  SELECT 3, c.conrelid, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c WHERE c.conrelid = ANY (links) AND c.contype = 'f'
    AND NOT (SELECT t.links FROM stage_trust t);
  FOR r IN SELECT * FROM stage_rebuild ORDER BY ord DESC, name LOOP
    IF r.ord = 2 THEN
      EXECUTE format('DROP INDEX %s', (SELECT format('%I.%I', n.nspname, r.name) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = r.tbl));
    ELSE
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.name);
    END IF;
  END LOOP;
END
$$;
