-- Make the new update operations "latest" for Clair's matcher: refresh the materialized view
-- inside the load transaction, so Clair switches from the old rows to the new ones at COMMIT.
DO $$
BEGIN
  IF (SELECT ispopulated FROM pg_matviews
      WHERE matviewname = 'latest_update_operations' AND schemaname = current_schema()) THEN
    REFRESH MATERIALIZED VIEW CONCURRENTLY latest_update_operations;
  ELSE
    REFRESH MATERIALIZED VIEW latest_update_operations;
  END IF;
END
$$;
