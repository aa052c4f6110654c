-- The second session, after the last alias file: statistics for link-aliases.sql's joins (they
-- move with the table when take-side-aliases.sql renames it).
ANALYZE clair_bundle.stage_alias_next;
-- And the distinct names of those rows, which link-aliases.sql would otherwise collect in the load's
-- session (which has the merge to do meanwhile; this one would idle), when no alias row goes before
-- then (schema >= 18: drop-not-vulnerable.sql does not run).
CREATE UNLOGGED TABLE clair_bundle.stage_alias_name_next AS
SELECT DISTINCT namespace, name FROM clair_bundle.stage_alias_next;
ANALYZE clair_bundle.stage_alias_name_next;
