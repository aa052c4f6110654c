-- After the COPY of direct-keys-begin.sql: the records a schema < 18 left out of the file copied
-- straight into vuln (stage_left_out) have no row; their keys get no id, as record-keys.sql stores
-- them (the ids the loader reserved for them stay unused). (Read only when there are such records.)
UPDATE clair_bundle.row_key k SET vuln = NULL
FROM stage_keys_direct d
JOIN stage_left_out l ON l.updater = d.updater
WHERE k.updater = d.updater AND k.vuln = d.shift + l.ord
  AND EXISTS (SELECT 1 FROM stage_left_out);
