-- Where the rows of a keyed updater (plan-keyed.sql) that must be staged are in its vulnerability
-- and alias CSVs, in file order, with the md5 digest their bytes must have.
SELECT vuln_at, vuln_bytes, alias_at, alias_bytes, digest
FROM stage_changed
WHERE updater = :'updater'
ORDER BY vuln_at;
