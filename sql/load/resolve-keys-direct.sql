-- resolve-keys.sql for a load that copied one updater straight into an empty vuln
-- (direct-begin.sql): vuln holds only those rows (stage_direct), so nothing is looked up in it.
-- stage_key and stage_existing are views over the copied rows' keys instead of copies of them.
-- Keys: the staged rows' and the copied ones' (those given up to a staged updater too), so
-- resolve-vulns.sql sees every updater's content.
CREATE TEMP TABLE stage_staged_key ON COMMIT DROP AS
SELECT s.ctid AS tid, s.hash, s.updater FROM stage_vuln s JOIN stage_plan p ON p.name = s.updater AND p.changed;
ANALYZE stage_staged_key;
-- Every copied row is the copied updater's (direct-end.sql checked each), so its name comes from
-- stage_direct_plan: a test of the updater (resolve-vulns.sql: "not the biggest updater") is then
-- decided once for all of them instead of for each of millions of rows.
CREATE TEMP VIEW stage_key AS
SELECT hash, updater FROM stage_staged_key
UNION ALL
SELECT hash, (SELECT name FROM stage_direct_plan) FROM stage_direct
UNION ALL
SELECT hash, updater FROM stage_direct_lost;

-- The staged keys, with the id of a copied row of the same content if there is one.
CREATE TEMP TABLE stage_resolved ON COMMIT DROP AS
SELECT k.tid, k.hash, k.updater, d.id
FROM stage_staged_key k
LEFT JOIN stage_direct d ON d.hash = k.hash;
ANALYZE stage_resolved;
-- Stored already: the copied rows, and staged content they hold. (copied: a constant of each
-- branch, so a statement that asks for NOT copied reads nothing of the millions of copied rows.)
CREATE TEMP VIEW stage_existing AS
SELECT hash, updater, id, true AS copied FROM stage_direct
UNION ALL
SELECT hash, updater, id, false FROM stage_resolved WHERE id IS NOT NULL;
