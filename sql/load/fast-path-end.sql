-- Re-creates what fast-path-begin.sql set aside and fast-path-vuln.sql left (the link tables'),
-- through pg_temp.recreate_set_aside (fast-path-begin.sql).
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
  PERFORM pg_temp.recreate_set_aside(NULL);
  FOR r IN SELECT DISTINCT tbl FROM stage_rebuild ORDER BY tbl LOOP
    EXECUTE format('ANALYZE %s', r.tbl);
  END LOOP;
END
$$;
