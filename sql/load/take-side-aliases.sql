-- Inside the load's transaction, once the second session committed the alias rows
-- (side-aliases-begin.sql): they become stage_alias, in place of the empty one of
-- create-staging.sql, for drop-not-vulnerable.sql and link-aliases.sql (finish-load.sql drops it).
-- (check-side-visible.sql ran before.)
DROP TABLE clair_bundle.stage_alias;
ALTER TABLE clair_bundle.stage_alias_next RENAME TO stage_alias;
