-- The second session, after the keys file: statistics for record-keys.sql (they stay with the
-- table, which take-side-keys.sql reads through stage_row_key).
ANALYZE clair_bundle.stage_row_key_next;
