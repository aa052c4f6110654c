-- The keys of the staged rows of changed updaters, read once from the wide staging table, with
-- where each row is in it (resolve-vulns.sql fetches the few it needs again by that).
CREATE TEMP TABLE stage_key ON COMMIT DROP AS
SELECT s.ctid AS tid, s.hash, s.updater
FROM stage_vuln s
JOIN stage_plan p ON p.name = s.updater AND p.changed;
ANALYZE stage_key;

-- Each staged key with the id of the vuln row that holds its content, if there is one (in a
-- refresh: nearly every row; in an initial load: none), in one join.
CREATE TEMP TABLE stage_resolved ON COMMIT DROP AS
SELECT k.tid, k.hash, k.updater, v.id
FROM stage_key k
LEFT JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = k.hash;
-- (copied: a row copied straight into vuln, resolve-keys-direct.sql; none here.)
CREATE TEMP TABLE stage_existing ON COMMIT DROP AS
SELECT hash, updater, id, false AS copied FROM stage_resolved WHERE id IS NOT NULL;
ANALYZE stage_existing;

-- A keyed refresh (plan-keyed.sql) staged exactly the rows of its new keys: the byte ranges held them.
DO $$
DECLARE
  bad record;
BEGIN
  SELECT k.updater, encode(k.hash, 'hex') AS hash INTO bad
  FROM stage_changed k
  WHERE NOT EXISTS (SELECT 1 FROM stage_key x WHERE x.updater = k.updater AND x.hash = k.hash)
    AND NOT EXISTS (SELECT 1 FROM stage_left_out x WHERE x.updater = k.updater AND x.hash = k.hash)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'the row keys of updater % do not match its vulnerability file: no row with hash % was read where its key points', bad.updater, bad.hash
      USING ERRCODE = 'CB005';
  END IF;
END
$$;
