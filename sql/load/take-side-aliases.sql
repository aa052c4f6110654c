-- Inside the load's transaction, once the second session committed the alias rows
-- (side-aliases-begin.sql): they become stage_alias, in place of the empty one of
-- create-staging.sql, for drop-not-vulnerable.sql and link-aliases.sql (finish-load.sql drops it).
-- (check-side-visible.sql ran before.)
DROP TABLE clair_bundle.stage_alias;
ALTER TABLE clair_bundle.stage_alias_next RENAME TO stage_alias;
-- Their distinct names (side-aliases-end.sql), for link-aliases.sql, when no row goes before then
-- (schema >= 18: drop-not-vulnerable.sql, which leaves some out, does not run). A view of this
-- session, made only here: a table a killed load's second session left is never read.
DO $$
BEGIN
  IF (SELECT has_not_vulnerable FROM stage_run) THEN
    CREATE TEMP VIEW stage_alias_name AS SELECT namespace, name, name_ord FROM clair_bundle.stage_alias_name_next;
  END IF;
END
$$;
