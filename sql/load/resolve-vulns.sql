-- Staged rows of changed updaters whose content already has a vuln row, with its id (in a
-- refresh: most rows; in an initial load: none).
CREATE TEMP TABLE stage_existing ON COMMIT DROP AS
SELECT s.hash, s.updater, v.id
FROM stage_vuln s
JOIN stage_plan p ON p.name = s.updater AND p.changed
JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = s.hash;

-- Content staged by more than one updater is inserted once, by the first updater by name;
-- these are the others' rows (they link to the row the first one inserts). Within one updater
-- hashes are unique, so with a single changed updater (a typical refresh) there is nothing to find.
CREATE TEMP TABLE stage_later ON COMMIT DROP AS
SELECT s.hash, s.updater
FROM stage_vuln s
JOIN stage_plan p ON p.name = s.updater AND p.changed
JOIN (
  SELECT s2.hash, min(s2.updater) AS first
  FROM stage_vuln s2 JOIN stage_plan p2 ON p2.name = s2.updater AND p2.changed
  WHERE (SELECT count(*) FROM stage_plan WHERE changed AND kind = 'vulnerability') > 1
  GROUP BY s2.hash HAVING count(*) > 1
) d ON d.hash = s.hash AND s.updater <> d.first;

CREATE TEMP TABLE stage_new (id bigint NOT NULL, hash bytea NOT NULL, updater text NOT NULL) ON COMMIT DROP;
ANALYZE stage_existing;
ANALYZE stage_later;
