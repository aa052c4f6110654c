-- Inside the load's transaction, once the second session committed the alias rows
-- (side-aliases-begin.sql): they become stage_alias, in place of the empty one of
-- create-staging.sql, for drop-not-vulnerable.sql and link-aliases.sql (finish-load.sql drops it).
-- The load reads them only as a READ COMMITTED transaction sees another session's commits.
DO $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'alias rows of the second session are invisible to a % transaction', current_setting('transaction_isolation');
  END IF;
END
$$;
DROP TABLE clair_bundle.stage_alias;
ALTER TABLE clair_bundle.stage_alias_next RENAME TO stage_alias;
