-- Inside the load's transaction, before pipe-aliases-begin.sql or take-side-aliases.sql: the rows the
-- second session committed are seen only by a READ COMMITTED transaction (the loader opens that
-- session only then; this makes sure).
DO $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'rows of the second session are invisible to a % transaction', current_setting('transaction_isolation');
  END IF;
END
$$;
