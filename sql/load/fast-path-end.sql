-- Re-creates what fast-path-begin.sql set aside (vuln's own: fast-path-vuln.sql, before), in
-- dependency order: unique constraints, indexes, then foreign keys (each validated by one
-- set-based check).
-- Then statistics for those tables, which went from empty to millions of rows in this load and
-- have none (or an empty table's): until autovacuum gets to them, Clair's queries would be planned
-- blind. Its GC deletes a superseded vulnerability through the alias links' ON DELETE CASCADE,
-- whose per-row lookup PostgreSQL plans for a table it takes for empty: measured at 9 M rows after
-- a 1 % refresh, 1.4 ms per deleted row instead of 16 µs (GC 148 s instead of 17 s). A sample of
-- each table, inside this transaction (its own rows count), a fraction of a second each.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM stage_rebuild ORDER BY ord, name LOOP
    IF r.ord = 2 THEN
      EXECUTE r.def;
    ELSE
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.name, r.def);
    END IF;
  END LOOP;
  FOR r IN SELECT DISTINCT tbl FROM stage_rebuild ORDER BY tbl LOOP
    EXECUTE format('ANALYZE %s', r.tbl);
  END LOOP;
END
$$;
