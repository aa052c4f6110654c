-- Record which bundle fingerprint each new update operation carries (refresh-latest.sql then
-- makes the new update operations "latest" for Clair's matcher).
INSERT INTO clair_bundle.update_operation_source (uo, updater, kind, fingerprint, bundle_digest, row_count)
SELECT p.uo, p.name, p.kind, p.fingerprint, m.doc->>'digest', p.row_count
FROM stage_plan p, stage_manifest m
WHERE p.changed;

-- The staging tables that are not temporary ones: stage_alias (create-staging.sql, or the second
-- session's: take-side-aliases.sql), and the second session's alias names (side-aliases-end.sql)
-- with the view that reads them; tables a killed load's second session left too
-- (side-aliases-begin.sql; stage_row_key_next: an earlier loader's second session copied keys there).
DROP TABLE clair_bundle.stage_alias;
DO $$
BEGIN
  IF to_regclass('clair_bundle.stage_row_key_next') IS NOT NULL THEN
    DROP TABLE clair_bundle.stage_row_key_next;
  END IF;
  IF to_regclass('clair_bundle.stage_alias_next') IS NOT NULL THEN
    DROP TABLE clair_bundle.stage_alias_next;
  END IF;
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('pg_temp.stage_alias_name')) = 'v' THEN
    DROP VIEW stage_alias_name;
  END IF;
  IF to_regclass('clair_bundle.stage_alias_name_next') IS NOT NULL THEN
    DROP TABLE clair_bundle.stage_alias_name_next;
  END IF;
END
$$;

DELETE FROM clair_bundle.update_operation_source s
WHERE NOT EXISTS (SELECT 1 FROM update_operation o WHERE o.id = s.uo);
