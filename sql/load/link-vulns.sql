-- Every staged vulnerability of a changed updater, new or pre-existing, joins its new
-- update operation.
WITH l AS (
  INSERT INTO uo_vuln (uo, vuln)
  SELECT p.uo, v.id
  FROM stage_vuln s
  JOIN stage_plan p ON p.name = s.updater AND p.changed
  JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = s.hash
  ON CONFLICT DO NOTHING
  RETURNING uo
)
INSERT INTO stage_count SELECT p.name, 'linked', count(*) FROM l JOIN stage_plan p ON p.uo = l.uo GROUP BY p.name;
