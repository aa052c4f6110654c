-- clair-bundle's own objects, in schema clair_bundle (search_path is set to it by the
-- loader). Written idempotently because `psql -f load.sql` re-runs it on every load.

-- The audit trail a DBA reads: one row per `load` attempt.
CREATE TABLE IF NOT EXISTS load_history (
  id             bigserial PRIMARY KEY,
  bundle_digest  text NOT NULL,
  bundle_created timestamptz NOT NULL,
  bundle_target  text NOT NULL DEFAULT '',
  tool_version   text NOT NULL,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  outcome        text NOT NULL CHECK (outcome IN ('loaded', 'unchanged', 'failed', 'refused')),
  -- per updater: {"name", "kind", "action": "loaded"|"unchanged", "inserted", "linked", "skipped", "uo"}
  updaters       jsonb NOT NULL DEFAULT '[]',
  db_user        text NOT NULL DEFAULT current_user,
  via            text NOT NULL DEFAULT 'clair-bundle',
  error          text
);
CREATE INDEX IF NOT EXISTS load_history_outcome_idx ON load_history (outcome, id);

-- The bundle fingerprint behind each update operation this tool created. Clair's own
-- update_operation.fingerprint gets '' (always acceptable to Clair's updaters); the
-- bundle fingerprint lives here, keyed by the update operation id.
CREATE TABLE IF NOT EXISTS update_operation_source (
  uo            bigint PRIMARY KEY,
  updater       text NOT NULL,
  kind          text NOT NULL,
  fingerprint   text NOT NULL,
  bundle_digest text NOT NULL,
  row_count     bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS update_operation_source_updater_idx ON update_operation_source (updater, uo);

-- Red Hat's mapping documents (repository-to-cpe.json, container-name-repos-map.json), as loaded.
CREATE TABLE IF NOT EXISTS mapping_document (
  name          text PRIMARY KEY,
  document      jsonb NOT NULL,
  sha256        text NOT NULL,
  upstream_date text NOT NULL DEFAULT '',
  bundle_digest text NOT NULL,
  loaded_at     timestamptz NOT NULL DEFAULT now()
);
