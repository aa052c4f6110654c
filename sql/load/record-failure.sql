-- History row for a failed load, written after the rollback (outside the load transaction).
INSERT INTO clair_bundle.load_history
  (bundle_digest, bundle_created, bundle_target, tool_version, started_at, outcome, via, error)
VALUES (:'digest', :'created', :'target', :'tool_version', :'started_at', 'failed', 'clair-bundle', :'error')
RETURNING id;
