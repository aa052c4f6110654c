-- Re-creates what fast-path-begin.sql set aside, in dependency order: unique constraints,
-- indexes, then foreign keys (each validated by one set-based check).
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
END
$$;
