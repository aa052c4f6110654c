-- New vulnerability rows (schema >= 18: with not_vulnerable). Rows already present keep their
-- id: the table is content-addressed by (hash_kind, hash).
WITH ins AS (
  INSERT INTO vuln (hash_kind, hash, updater, name, description, issued, links, severity,
    normalized_severity, package_name, package_version, package_module, package_arch, package_kind,
    dist_id, dist_name, dist_version, dist_version_code_name, dist_version_id, dist_arch, dist_cpe,
    dist_pretty_name, repo_name, repo_key, repo_uri, fixed_in_version, arch_operation, version_kind,
    vulnerable_range, not_vulnerable)
  SELECT 'md5', s.hash, s.updater, s.name, s.description, s.issued, s.links, s.severity,
    s.normalized_severity, s.package_name, s.package_version, s.package_module, s.package_arch, s.package_kind,
    s.dist_id, s.dist_name, s.dist_version, s.dist_version_code_name, s.dist_version_id, s.dist_arch, s.dist_cpe,
    s.dist_pretty_name, s.repo_name, s.repo_key, s.repo_uri, s.fixed_in_version, s.arch_operation, s.version_kind,
    coalesce(s.vulnerable_range::versionrange, versionrange('{}', '{}', '()')), s.not_vulnerable
  FROM stage_vuln s
  JOIN stage_plan p ON p.name = s.updater AND p.changed
  -- resolve-vulns.sql left only content without a vuln row here (a refresh) or found none (an
  -- initial load): no need to look each staged row up in vuln again.
  WHERE NOT EXISTS (SELECT 1 FROM stage_later l WHERE l.hash = s.hash AND l.updater = s.updater)
  -- No conflict target: valid whether or not the fast path set the unique constraint aside. A
  -- row skipped here (a concurrent writer) goes unlinked, which link-vulns.sql detects.
  ON CONFLICT DO NOTHING
  RETURNING id, hash, updater
)
INSERT INTO stage_new SELECT id, hash, updater FROM ins;
INSERT INTO stage_count SELECT updater, 'inserted', count(*) FROM stage_new GROUP BY updater;
