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
-- Trusted links (create-staging.sql): no per-row foreign-key triggers for the inserts below.
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = replica; END IF; END $$;
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
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = origin; END IF; END $$;
