-- Where the rows of a keyed updater (plan-keyed.sql) that must be staged are in its vulnerability
-- and alias CSVs, in file order.
SELECT k.vuln_at, k.vuln_bytes, k.alias_at, k.alias_bytes
FROM stage_row_key k
WHERE k.updater = :'updater'
  AND NOT EXISTS (SELECT 1 FROM stage_known n WHERE n.updater = k.updater AND n.digest = k.digest)
ORDER BY k.vuln_at;
