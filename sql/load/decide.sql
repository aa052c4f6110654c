-- unchanged: this digest is the last loaded bundle and every updater's latest update
-- operation still carries the bundle's fingerprint (and every mapping its sha256).
-- refused: a bundle created later was already loaded (unless allow_older).
-- load: anything else.
WITH m AS (SELECT doc FROM stage_manifest),
last_ok AS (
  SELECT bundle_digest FROM clair_bundle.load_history
  WHERE outcome IN ('loaded', 'unchanged') ORDER BY id DESC LIMIT 1
),
newest AS (
  SELECT max(bundle_created) AS created FROM clair_bundle.load_history WHERE outcome IN ('loaded', 'unchanged')
),
stale_updaters AS (
  SELECT u->>'name' AS name
  FROM m, jsonb_array_elements(m.doc->'updaters') u
  LEFT JOIN clair_bundle.update_operation_source s
    ON s.uo = (SELECT max(o.id) FROM update_operation o WHERE o.updater = u->>'name')
  WHERE s.fingerprint IS DISTINCT FROM u->>'fingerprint'
),
stale_mappings AS (
  SELECT mp->>'name' AS name
  FROM m, jsonb_array_elements(coalesce(m.doc->'mappings', '[]')) mp
  LEFT JOIN clair_bundle.mapping_document d ON d.name = mp->>'name'
  WHERE d.sha256 IS DISTINCT FROM mp->>'sha256'
)
SELECT d.*, d.decision = 'unchanged' AS is_unchanged, d.decision = 'refused' AS is_refused
FROM (SELECT
  CASE
    WHEN (SELECT bundle_digest FROM last_ok) = (SELECT doc->>'digest' FROM m)
      AND NOT EXISTS (SELECT 1 FROM stale_updaters) AND NOT EXISTS (SELECT 1 FROM stale_mappings)
      THEN 'unchanged'
    WHEN NOT (SELECT allow_older FROM stage_run)
      AND (SELECT created FROM newest) > (SELECT (doc->>'created')::timestamptz FROM m)
      THEN 'refused'
    ELSE 'load'
  END AS decision,
  (SELECT created FROM newest) AS newest_loaded,
  (SELECT doc->>'created' FROM m) AS bundle_created,
  ARRAY(SELECT name FROM stale_updaters ORDER BY name) AS stale_updaters) d;
