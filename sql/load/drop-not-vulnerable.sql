-- Schema < 18 has no vuln.not_vulnerable: "not vulnerable" records are left out, because an
-- older Clair would read them as vulnerabilities. The summary reports how many. Those of a file
-- copied straight into vuln are in stage_left_out already (the loader filtered them out).
INSERT INTO stage_left_out (updater, hash) SELECT s.updater, s.hash FROM stage_vuln s WHERE s.not_vulnerable;
INSERT INTO stage_count SELECT updater, 'left_out', count(*) FROM stage_left_out GROUP BY updater;
-- Their aliases go with them, unless the same content is also loaded as a vulnerability
-- (stage_left_out_kept). (Of the copied rows, only those sharing content with a row left out are
-- looked at.) Only where there are aliases (schema 17): on schema 16, which has none, neither
-- statement reads anything (a gate on stage_run, which the planner checks once, first; 1 M rows:
-- 0.2 s of hashing the records left out).
INSERT INTO stage_left_out_kept
SELECT k.hash
FROM (SELECT hash FROM stage_left_out
      INTERSECT (SELECT hash FROM stage_vuln WHERE NOT not_vulnerable UNION SELECT d.hash FROM stage_direct d JOIN stage_left_out l ON l.hash = d.hash)) k
WHERE (SELECT r.has_aliases FROM stage_run r);
DELETE FROM clair_bundle.stage_alias
WHERE hash IN (SELECT hash FROM stage_left_out EXCEPT SELECT hash FROM stage_left_out_kept)
  AND (SELECT r.has_aliases FROM stage_run r);
DELETE FROM stage_vuln WHERE not_vulnerable;
