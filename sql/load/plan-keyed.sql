-- Keyed refresh (node loader, after the keys files were copied into stage_row_key). A changed
-- vulnerability updater whose keys this tool stored at its last load (clair_bundle.row_key), for
-- the update operation that is still its latest, stages only the rows whose digest is not among
-- them. Every other row keeps its vuln row, whose id must be linked to that update operation: so
-- it exists and holds that content with at least those alias links (Clair never changes a vuln
-- row, and links are only added), exactly what staging the row again would find. More than a
-- twentieth of an updater's rows new (their places are held in memory): it stages all of them.
SET LOCAL work_mem = '128MB';
ANALYZE stage_row_key;
INSERT INTO stage_keyed (name, prior_uo, rows, staged)
SELECT p.name, s.uo, p.row_count, 0
FROM stage_plan p
JOIN clair_bundle.row_key_source s ON s.updater = p.name AND s.uo = p.prev_uo
WHERE p.changed AND p.kind = 'vulnerability'
  AND EXISTS (SELECT 1 FROM stage_row_key k WHERE k.updater = p.name);
INSERT INTO stage_known (updater, digest, id)
SELECT k.updater, k.digest, m.vuln
FROM stage_row_key k
JOIN stage_keyed s ON s.name = k.updater
JOIN clair_bundle.row_key m ON m.updater = k.updater AND m.digest = k.digest
JOIN uo_vuln l ON l.uo = s.prior_uo AND l.vuln = m.vuln;
UPDATE stage_keyed s SET staged = s.rows - (SELECT count(*) FROM stage_known k WHERE k.updater = s.name);
DELETE FROM stage_known k USING stage_keyed s WHERE s.name = k.updater AND s.staged * 20 > s.rows;
DELETE FROM stage_keyed WHERE staged * 20 > rows;
ANALYZE stage_known;
-- The keys to stage, read once here: for changed-ranges.sql, the check in resolve-keys.sql and
-- record-keys.sql.
INSERT INTO stage_changed
SELECT k.updater, k.hash, k.digest, k.vuln_at, k.vuln_bytes, k.alias_at, k.alias_bytes
FROM stage_row_key k
JOIN stage_keyed s ON s.name = k.updater
WHERE NOT EXISTS (SELECT 1 FROM stage_known n WHERE n.updater = k.updater AND n.digest = k.digest);
ANALYZE stage_changed;
SELECT name, rows, staged FROM stage_keyed ORDER BY name;
