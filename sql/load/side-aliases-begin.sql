-- The second session of an initial load (src/load/side-session.ts), before it copies the alias
-- files while the load's own session checks and merges the rows it copied: their rows go into a
-- table of their own, committed by that session (the load's uncommitted stage_alias is invisible
-- to it), which take-side-aliases.sql puts in stage_alias's place inside the load's transaction.
-- (Schema >= 18: of the file copied straight into vuln, only the rows whose links node did not
-- collect, src/load/name-ordinals.ts `keep`; the load copies the others if it cannot pipe those.)
-- Same columns as stage_alias (create-staging.sql). Loads take turns (lock-load.sql): a table left
-- by a load that was killed is this load's to drop.
-- One transaction, to side-aliases-end.sql: the COPYs into the table it makes freeze their rows.
BEGIN;
DROP TABLE IF EXISTS clair_bundle.stage_alias_next;
DROP TABLE IF EXISTS clair_bundle.stage_alias_name_next;
-- (The definition is repeated, not shared: that session cannot see the load's tables.)
CREATE UNLOGGED TABLE clair_bundle.stage_alias_next (
  hash bytea NOT NULL,
  kind text NOT NULL CHECK (kind IN ('self', 'alias')),
  namespace text NOT NULL CHECK (namespace <> ''),
  name text NOT NULL CHECK (name <> ''),
  ord bigint,
  name_ord integer
);
-- The distinct names of those rows (side-aliases-end.sql), with the numbers node gave them while it
-- copied the alias file of the updater copied straight into vuln (src/load/name-ordinals.ts).
CREATE UNLOGGED TABLE clair_bundle.stage_alias_name_next (
  namespace text NOT NULL,
  name text NOT NULL,
  name_ord integer
);
