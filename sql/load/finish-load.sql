-- Record which bundle fingerprint each new update operation carries (refresh-latest.sql then
-- makes the new update operations "latest" for Clair's matcher).
INSERT INTO clair_bundle.update_operation_source (uo, updater, kind, fingerprint, bundle_digest, row_count)
SELECT p.uo, p.name, p.kind, p.fingerprint, m.doc->>'digest', p.row_count
FROM stage_plan p, stage_manifest m
WHERE p.changed;

-- The one staging table that is not a temporary one (create-staging.sql).
DROP TABLE clair_bundle.stage_alias;

DELETE FROM clair_bundle.update_operation_source s
WHERE NOT EXISTS (SELECT 1 FROM update_operation o WHERE o.id = s.uo);
