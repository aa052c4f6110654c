-- Refuses databases that are not Clair matcher databases at a supported schema version
-- (16 = Clair v4.9.0 / claircore v1.5.48 … 20 = claircore main). SQLSTATE CB004 = exit 4.
DO $$
DECLARE
  found int[];
  top int;
BEGIN
  IF to_regclass('libvuln_migrations') IS NULL THEN
    RAISE EXCEPTION 'not a Clair matcher database: table libvuln_migrations not found in schema %', current_schema()
      USING ERRCODE = 'CB004', HINT = 'point --db at the matcher database (Clair config: matcher.connstring), or let Clair migrate it first (matcher.migrations: true)';
  END IF;
  EXECUTE 'SELECT array_agg(version ORDER BY version), max(version) FROM libvuln_migrations' INTO found, top;
  IF top IS NULL OR top < 16 OR top > 20 THEN
    RAISE EXCEPTION 'unsupported Clair matcher schema version % (supported: 16 to 20)', coalesce(top::text, 'none')
      USING ERRCODE = 'CB004', HINT = 'upgrade Clair (schema 16 = Clair 4.9.0) or upgrade clair-bundle';
  END IF;
  IF NOT (found @> ARRAY(SELECT generate_series(1, 16))) THEN
    RAISE EXCEPTION 'Clair matcher schema incomplete: migrations % applied, 1 to 16 required', found USING ERRCODE = 'CB004';
  END IF;
  IF to_regclass('latest_update_operations') IS NULL OR to_regclass('idx_updater_uniq') IS NULL THEN
    RAISE EXCEPTION 'Clair matcher schema incomplete: materialized view latest_update_operations or its index idx_updater_uniq is missing'
      USING ERRCODE = 'CB004';
  END IF;
END
$$;
