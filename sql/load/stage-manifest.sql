-- Session staging for the bundle's manifest (one line of JSON) and this run's settings.
CREATE TEMP TABLE IF NOT EXISTS stage_manifest (doc jsonb NOT NULL);
TRUNCATE stage_manifest;
CREATE TEMP TABLE IF NOT EXISTS stage_run (
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  via text NOT NULL,
  allow_older boolean NOT NULL,
  has_aliases boolean NOT NULL,
  has_not_vulnerable boolean NOT NULL
);
TRUNCATE stage_run;
