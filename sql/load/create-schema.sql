-- Our schema, created only when missing: CREATE SCHEMA IF NOT EXISTS would still demand CREATE on
-- the database from a role whose DBA pre-created the schema for it (README "Least privilege").
-- Two first loads at once: the second one finds the schema the first one created.
DO $$
BEGIN
  IF to_regnamespace('clair_bundle') IS NULL THEN
    CREATE SCHEMA clair_bundle;
  END IF;
EXCEPTION WHEN duplicate_schema OR unique_violation THEN
  NULL;
END
$$;
