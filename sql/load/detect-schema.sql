-- What the matcher schema supports: aliases (>= 17) and vuln.not_vulnerable (>= 18).
SELECT
  (SELECT max(version) FROM libvuln_migrations) AS schema_version,
  to_regclass('vulnerability_alias') IS NOT NULL AS has_aliases,
  EXISTS (
    SELECT 1 FROM pg_attribute
    WHERE attrelid = to_regclass('vuln') AND attname = 'not_vulnerable' AND NOT attisdropped
  ) AS has_not_vulnerable;
