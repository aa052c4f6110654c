-- Schema < 18 has no vuln.not_vulnerable: "not vulnerable" records are left out, because an
-- older Clair would read them as vulnerabilities. The summary reports how many.
INSERT INTO stage_count
SELECT s.updater, 'left_out', count(*) FROM stage_vuln s WHERE s.not_vulnerable GROUP BY s.updater;
INSERT INTO stage_left_out SELECT s.updater, s.hash FROM stage_vuln s WHERE s.not_vulnerable;
-- Their aliases go with them (unless the same content is also staged as a vulnerability).
DELETE FROM stage_alias WHERE hash IN (
  SELECT hash FROM stage_vuln WHERE not_vulnerable EXCEPT SELECT hash FROM stage_vuln WHERE NOT not_vulnerable
);
DELETE FROM stage_vuln WHERE not_vulnerable;
