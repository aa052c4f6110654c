INSERT INTO clair_bundle.load_history
  (bundle_digest, bundle_created, bundle_target, tool_version, started_at, outcome, updaters, via)
SELECT m.doc->>'digest', (m.doc->>'created')::timestamptz, coalesce(m.doc->>'target', ''),
  m.doc->'tool'->>'version', r.started_at,
  CASE WHEN EXISTS (SELECT 1 FROM stage_plan WHERE changed)
    OR EXISTS (SELECT 1 FROM stage_count WHERE what = 'replaced') THEN 'loaded' ELSE 'unchanged' END,
  coalesce((
    SELECT jsonb_agg(jsonb_build_object(
      'name', p.name, 'kind', p.kind, 'action', CASE WHEN p.changed THEN 'loaded' ELSE 'unchanged' END,
      'uo', p.uo, 'rows', p.row_count,
      -- rows read into staging: all of a changed updater's, or only those with new keys (plan-keyed.sql)
      'staged', CASE WHEN p.changed THEN coalesce((SELECT k.staged FROM stage_keyed k WHERE k.name = p.name), p.row_count) ELSE 0 END,
      'inserted', coalesce((SELECT sum(n) FROM stage_count c WHERE c.updater = p.name AND c.what = 'inserted'), 0),
      'linked', coalesce((SELECT sum(n) FROM stage_count c WHERE c.updater = p.name AND c.what = 'linked'), 0),
      'left_out', coalesce((SELECT sum(n) FROM stage_count c WHERE c.updater = p.name AND c.what = 'left_out'), 0)
    ) ORDER BY p.name)
    FROM stage_plan p), '[]'),
  r.via
FROM stage_manifest m, stage_run r
RETURNING id, outcome, updaters;
