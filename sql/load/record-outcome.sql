-- History row for a run that did not open the load transaction (unchanged / refused).
INSERT INTO clair_bundle.load_history
  (bundle_digest, bundle_created, bundle_target, tool_version, started_at, outcome, via, error)
SELECT m.doc->>'digest', (m.doc->>'created')::timestamptz, coalesce(m.doc->>'target', ''),
  m.doc->'tool'->>'version', r.started_at, :'outcome', r.via, nullif(:'error', '')
FROM stage_manifest m, stage_run r
RETURNING id, outcome;
