-- Inside the load's transaction, once the second session committed the keys of the updater copied
-- straight into vuln (side-keys-begin.sql), before record-keys.sql reads them: stage_row_key
-- becomes a view of this load's own keys and those (the temporary table is renamed; its
-- ON COMMIT DROP takes the view along; finish-load.sql drops the second session's table).
-- (check-side-visible.sql ran before.) Its updater (it copies one file) is noted in stage_keys_file.
ALTER TABLE stage_row_key RENAME TO stage_row_key_own;
CREATE TEMP VIEW stage_row_key AS
SELECT * FROM stage_row_key_own
UNION ALL
SELECT * FROM clair_bundle.stage_row_key_next;
INSERT INTO stage_keys_file SELECT updater FROM clair_bundle.stage_row_key_next LIMIT 1 ON CONFLICT DO NOTHING;
