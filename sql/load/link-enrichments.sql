-- Enrichment rows (content-addressed like vuln) and their links to the new update operation.
WITH ins AS (
  INSERT INTO enrichment (hash_kind, hash, updater, tags, data)
  SELECT DISTINCT ON (e.hash) 'md5', e.hash, e.updater, e.tags, e.data::jsonb
  FROM stage_enrichment e
  JOIN stage_plan p ON p.name = e.updater AND p.changed
  ORDER BY e.hash, e.updater
  ON CONFLICT (hash_kind, hash) DO NOTHING
  RETURNING updater
)
INSERT INTO stage_count SELECT updater, 'inserted', count(*) FROM ins GROUP BY updater;
WITH l AS (
  INSERT INTO uo_enrich (uo, enrich, updater, date)
  SELECT p.uo, en.id, p.name, transaction_timestamp()
  FROM stage_enrichment e
  JOIN stage_plan p ON p.name = e.updater AND p.changed
  JOIN enrichment en ON en.hash_kind = 'md5' AND en.hash = e.hash
  ON CONFLICT DO NOTHING
  RETURNING updater
)
INSERT INTO stage_count SELECT updater, 'linked', count(*) FROM l GROUP BY updater;
