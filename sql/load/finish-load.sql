-- Record which bundle fingerprint each new update operation carries, make the new update
-- operations "latest" for Clair's matcher (inside the transaction: the switch is atomic),
-- and write the history row.
INSERT INTO clair_bundle.update_operation_source (uo, updater, kind, fingerprint, bundle_digest, row_count)
SELECT p.uo, p.name, p.kind, p.fingerprint, m.doc->>'digest', p.row_count
FROM stage_plan p, stage_manifest m
WHERE p.changed;

DELETE FROM clair_bundle.update_operation_source s
WHERE NOT EXISTS (SELECT 1 FROM update_operation o WHERE o.id = s.uo);

DO $$
BEGIN
  IF (SELECT ispopulated FROM pg_matviews
      WHERE matviewname = 'latest_update_operations' AND schemaname = current_schema()) THEN
    REFRESH MATERIALIZED VIEW CONCURRENTLY latest_update_operations;
  ELSE
    REFRESH MATERIALIZED VIEW latest_update_operations;
  END IF;
END
$$;
