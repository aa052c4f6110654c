-- The keys of the staged rows of changed updaters, read once from the wide staging table.
CREATE TEMP TABLE stage_key ON COMMIT DROP AS
SELECT s.hash, s.updater
FROM stage_vuln s
JOIN stage_plan p ON p.name = s.updater AND p.changed;
ANALYZE stage_key;

-- Each staged key with the id of the vuln row that holds its content, if there is one (in a
-- refresh: nearly every row; in an initial load: none), in one join.
CREATE TEMP TABLE stage_resolved ON COMMIT DROP AS
SELECT k.hash, k.updater, v.id
FROM stage_key k
LEFT JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = k.hash;
CREATE TEMP TABLE stage_existing ON COMMIT DROP AS
SELECT hash, updater, id FROM stage_resolved WHERE id IS NOT NULL;
ANALYZE stage_existing;
