-- Every staged vulnerability of a changed updater, new or pre-existing, joins its new
-- update operation. A new update operation has no links yet and each updater's rows have
-- distinct hashes, so no conflict handling is needed (it costs ~30% here).
WITH l AS (
  INSERT INTO uo_vuln (uo, vuln)
  SELECT p.uo, coalesce(i.id, n.id)
  FROM stage_ids i
  JOIN stage_plan p ON p.name = i.updater
  LEFT JOIN stage_new n ON i.id IS NULL AND n.hash = i.hash
  -- In id order every index insertion and foreign-key probe walks its btree left to right.
  ORDER BY 1, 2
  RETURNING uo
)
INSERT INTO stage_count SELECT p.name, 'linked', count(*) FROM l JOIN stage_plan p ON p.uo = l.uo GROUP BY p.name;
