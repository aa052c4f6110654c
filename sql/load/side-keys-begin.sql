-- The second session of an initial load (src/load/side-session.ts), before it copies the keys file
-- of the updater copied straight into vuln, which the load's session left out of its own
-- stage_row_key: into a table of their own, committed by that session, which take-side-keys.sql
-- joins to stage_row_key inside the load's transaction. Same columns as stage_row_key
-- (create-staging.sql): the updater from clair_bundle.copy_updater, which side-keys-updater.sql sets
-- for this session; ord, the key's line in its file from 1, numbered by the loader. A table left by a
-- load that was killed is this load's to drop (loads take turns: lock-load.sql).
DROP TABLE IF EXISTS clair_bundle.stage_row_key_next;
-- (The definition is repeated, not shared: that session cannot see the load's tables.)
CREATE UNLOGGED TABLE clair_bundle.stage_row_key_next (
  updater text NOT NULL DEFAULT current_setting('clair_bundle.copy_updater'),
  hash bytea NOT NULL,
  digest bytea NOT NULL,
  vuln_at bigint NOT NULL,
  vuln_bytes bigint NOT NULL,
  alias_at bigint NOT NULL,
  alias_bytes bigint NOT NULL,
  ord bigint NOT NULL
);
