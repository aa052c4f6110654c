-- The second session, after the last alias file: statistics for link-aliases.sql's joins (they
-- move with the table when take-side-aliases.sql renames it).
ANALYZE clair_bundle.stage_alias_next;
