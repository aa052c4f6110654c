-- Initial load, node loader, before record-keys.sql: the keys of the updater copied straight into
-- vuln (direct-end.sql) go by COPY straight into clair_bundle.row_key after record-keys.sql, which
-- then leaves them alone, each with its id, the shift + its line number, which the loader writes
-- (src/load/keys-to-row-keys.ts), instead of into stage_row_key before it and inserted from there. Only
-- when those ids have no gaps (stage_direct_shift) and none of the rows was given up to a staged
-- updater (stage_direct_lost: their keys go by their hash, record-keys.sql). Returns the shift; no
-- row: the loader copies the keys file into stage_row_key, as any other (direct-keys-staged.sql).
-- (As key-updater.sql notes a keys file copied into stage_row_key, its updater is noted in
-- stage_keys_file: record-keys.sql notes the keys' source.)
WITH direct AS (
  INSERT INTO stage_keys_direct (updater, shift)
  SELECT t.updater, t.shift FROM stage_direct_shift t
  WHERE t.updater = :'updater' AND NOT EXISTS (SELECT 1 FROM stage_direct_lost)
  RETURNING updater, shift
), noted AS (
  INSERT INTO stage_keys_file SELECT updater FROM direct ON CONFLICT DO NOTHING
)
SELECT shift FROM direct;
