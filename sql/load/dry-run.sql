-- What a load would do, per updater, computed from the staged rows; writes nothing.
SELECT p.name, p.kind, p.changed, p.row_count,
  (SELECT count(DISTINCT s.hash) FROM stage_vuln s
    WHERE s.updater = p.name AND NOT EXISTS (SELECT 1 FROM vuln v WHERE v.hash_kind = 'md5' AND v.hash = s.hash))
  + (SELECT count(DISTINCT e.hash) FROM stage_enrichment e
    WHERE e.updater = p.name AND NOT EXISTS (SELECT 1 FROM enrichment x WHERE x.hash_kind = 'md5' AND x.hash = e.hash))
    AS to_insert,
  (SELECT count(DISTINCT s.hash) FROM stage_vuln s WHERE s.updater = p.name)
  + (SELECT count(DISTINCT e.hash) FROM stage_enrichment e WHERE e.updater = p.name) AS to_link
FROM stage_plan p
ORDER BY p.name;
