-- Keyed refresh (node loader, after the keys files were copied into stage_row_key). A changed
-- vulnerability updater whose keys this tool stored at its last load (clair_bundle.row_key), for
-- the update operation that is still its latest, stages only the rows whose digest is not among
-- them. Every other row keeps its vuln row (stage_known): Clair never changes a vuln row and links
-- are only added, so that row holds that content with at least those alias links, exactly what
-- staging the row again would find. The stored keys are those of exactly the rows linked to that
-- update operation when it was created, and rows are only ever unlinked from it later (a vuln row
-- deleted, cascading), never linked to it: while it still has as many links as keys, every key's row
-- is still there. Keys without an id stand for "not vulnerable" rows a schema < 18 left out: they
-- are left out again (counted as such), and are no use once the schema stores such rows
-- (stage_run.has_not_vulnerable, detect-schema.sql). More than a twentieth of an updater's rows new
-- (their places are held in memory): it stages all of them.
SET LOCAL work_mem = '128MB';
ANALYZE stage_row_key;
-- (Each count once, for the updater that qualifies otherwise: its stored keys in one pass, its
-- update operation's links by their index; whether the bundle has keys for it, from the first one.)
INSERT INTO stage_keyed (name, prior_uo, staged)
SELECT c.name, c.uo, 0
FROM (
  SELECT p.name, s.uo
  FROM stage_plan p
  JOIN clair_bundle.row_key_source s ON s.updater = p.name AND s.uo = p.prev_uo
  WHERE p.changed AND p.kind = 'vulnerability'
    AND (SELECT true FROM stage_row_key k WHERE k.updater = p.name LIMIT 1)
  OFFSET 0
) c
CROSS JOIN LATERAL (
  SELECT count(m.vuln) AS with_id, count(*) - count(m.vuln) AS without_id
  FROM clair_bundle.row_key m WHERE m.updater = c.name
) m
WHERE m.with_id = (SELECT count(*) FROM uo_vuln l WHERE l.uo = c.uo)
  AND NOT ((SELECT has_not_vulnerable FROM stage_run) AND m.without_id > 0);
-- The differences only, in one pass: new keys (to stage) and stored keys no longer in the bundle.
CREATE TEMP TABLE stage_key_diff ON COMMIT DROP AS
SELECT k.updater, k.hash, k.digest, k.vuln_at, k.vuln_bytes, k.alias_at, k.alias_bytes, m.updater AS gone_updater, m.digest AS gone_digest
FROM (SELECT r.* FROM stage_row_key r JOIN stage_keyed s ON s.name = r.updater) k
FULL JOIN (SELECT r.updater, r.digest FROM clair_bundle.row_key r JOIN stage_keyed s ON s.name = r.updater) m
  ON m.updater = k.updater AND m.digest = k.digest
WHERE k.digest IS NULL OR m.digest IS NULL;
INSERT INTO stage_changed
SELECT updater, hash, digest, vuln_at, vuln_bytes, alias_at, alias_bytes FROM stage_key_diff WHERE digest IS NOT NULL;
INSERT INTO stage_gone SELECT gone_updater, gone_digest FROM stage_key_diff WHERE gone_digest IS NOT NULL;
UPDATE stage_keyed s SET staged = (SELECT count(*) FROM stage_changed c WHERE c.updater = s.name);
DELETE FROM stage_keyed s USING stage_plan p WHERE p.name = s.name AND s.staged * 20 > p.row_count;
DELETE FROM stage_changed c WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = c.updater);
DELETE FROM stage_gone g WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = g.updater);
INSERT INTO stage_count SELECT k.updater, 'left_out', count(*) FROM stage_known k WHERE k.id IS NULL GROUP BY k.updater;
ANALYZE stage_changed;
ANALYZE stage_gone;
SELECT s.name, p.row_count AS rows, s.staged FROM stage_keyed s JOIN stage_plan p ON p.name = s.name ORDER BY s.name;
