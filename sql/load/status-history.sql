SELECT id, bundle_digest, bundle_created, bundle_target, tool_version, started_at, finished_at,
  outcome, via, db_user, error, jsonb_array_length(updaters) AS updater_count,
  (SELECT count(*) FROM jsonb_array_elements(updaters) u WHERE u->>'action' = 'loaded') AS updaters_loaded
FROM clair_bundle.load_history
ORDER BY id DESC
LIMIT :'limit';
