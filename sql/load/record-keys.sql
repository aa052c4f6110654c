-- Row keys of this load (plan-keyed.sql), kept for the next refresh of each changed vulnerability
-- updater: digest → vuln id for every row it linked, for its new update operation. A changed
-- updater whose keys were not staged (psql -f load.sql, a bundle without keys, schema < 18) keeps
-- none, so its next refresh stages every row.
DELETE FROM clair_bundle.row_key_source s USING stage_plan p WHERE s.updater = p.name AND p.changed;
-- A keyed updater keeps the stored keys still in the bundle; any other changed updater, none.
DELETE FROM clair_bundle.row_key m
USING stage_plan p
WHERE m.updater = p.name AND p.changed AND NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = p.name);
DELETE FROM clair_bundle.row_key m USING stage_gone g WHERE m.updater = g.updater AND m.digest = g.digest;
-- The staged rows' ids, as link-vulns.sql linked them (stage_staged_id): of a keyed updater, its
-- changed keys; of any other, all of its keys.
INSERT INTO clair_bundle.row_key (updater, digest, vuln)
SELECT k.updater, k.digest, i.id
FROM (
  SELECT updater, hash, digest FROM stage_changed
  UNION ALL
  SELECT updater, hash, digest FROM stage_row_key r WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = r.updater)
) k
JOIN stage_staged_id i ON i.hash = k.hash AND i.updater = k.updater;
INSERT INTO clair_bundle.row_key_source (updater, uo)
SELECT p.name, p.uo FROM stage_plan p
WHERE p.changed AND p.kind = 'vulnerability' AND EXISTS (SELECT 1 FROM stage_row_key k WHERE k.updater = p.name);
