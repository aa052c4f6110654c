-- The second session, after the last alias file: statistics for link-aliases.sql's joins (they
-- move with the table when take-side-aliases.sql renames it).
ANALYZE clair_bundle.stage_alias_next;
-- And the distinct names of those rows, which link-aliases.sql would otherwise collect in the load's
-- session (which has the merge to do meanwhile; this one would idle), when no alias row goes before
-- then (schema >= 18: drop-not-vulnerable.sql does not run).
-- Node listed the names it numbered (stage_alias_name_next.name_ord); the others' names are
-- collected here, one row each even if a numbered row has it too (link-aliases.sql inserts a name
-- once). If node gave up numbering (src/load/name-ordinals.ts: too many names), it listed none and
-- every row's name is collected.
INSERT INTO clair_bundle.stage_alias_name_next (namespace, name)
SELECT DISTINCT a.namespace, a.name FROM clair_bundle.stage_alias_next a
WHERE a.name_ord IS NULL OR NOT EXISTS (SELECT 1 FROM clair_bundle.stage_alias_name_next n);
ANALYZE clair_bundle.stage_alias_name_next;
-- (side-aliases-begin.sql began it.)
COMMIT;
