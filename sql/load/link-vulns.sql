-- Every staged vulnerability of a changed updater, new or pre-existing, joins its new
-- update operation (a new update operation has no links yet, so nothing can conflict).
WITH l AS (
  INSERT INTO uo_vuln (uo, vuln)
  SELECT p.uo, coalesce(i.id, n.id)
  FROM stage_ids i
  JOIN stage_plan p ON p.name = i.updater
  LEFT JOIN stage_new n ON i.id IS NULL AND n.hash = i.hash
  ON CONFLICT DO NOTHING
  RETURNING uo
)
INSERT INTO stage_count SELECT p.name, 'linked', count(*) FROM l JOIN stage_plan p ON p.uo = l.uo GROUP BY p.name;
