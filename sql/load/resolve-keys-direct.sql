-- resolve-keys.sql for a load that copied one updater straight into an empty vuln
-- (direct-begin.sql): vuln holds only those rows (stage_direct), so nothing is looked up in it.
-- Keys: the staged rows' and the copied ones' (those given up to a staged updater too), so
-- resolve-vulns.sql sees every updater's content.
CREATE TEMP TABLE stage_key ON COMMIT DROP AS
SELECT s.hash, s.updater FROM stage_vuln s JOIN stage_plan p ON p.name = s.updater AND p.changed
UNION ALL
SELECT hash, updater FROM stage_direct
UNION ALL
SELECT hash, updater FROM stage_direct_lost;
ANALYZE stage_key;

-- The staged keys, with the id of a copied row of the same content if there is one.
CREATE TEMP TABLE stage_resolved ON COMMIT DROP AS
SELECT s.hash, s.updater, d.id
FROM stage_vuln s
JOIN stage_plan p ON p.name = s.updater AND p.changed
LEFT JOIN stage_direct d ON d.hash = s.hash;
-- Stored already: the copied rows, and staged content they hold.
CREATE TEMP TABLE stage_existing ON COMMIT DROP AS
SELECT hash, updater, id FROM stage_direct
UNION ALL
SELECT hash, updater, id FROM stage_resolved WHERE id IS NOT NULL;
