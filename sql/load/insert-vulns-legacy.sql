-- New vulnerability rows for schema < 18 (no not_vulnerable column): "not vulnerable"
-- records are left out, because an older Clair would read them as vulnerabilities.
INSERT INTO stage_count
SELECT s.updater, 'left_out', count(*) FROM stage_vuln s WHERE s.not_vulnerable GROUP BY s.updater;
DELETE FROM stage_vuln WHERE not_vulnerable;
WITH ins AS (
  INSERT INTO vuln (hash_kind, hash, updater, name, description, issued, links, severity,
    normalized_severity, package_name, package_version, package_module, package_arch, package_kind,
    dist_id, dist_name, dist_version, dist_version_code_name, dist_version_id, dist_arch, dist_cpe,
    dist_pretty_name, repo_name, repo_key, repo_uri, fixed_in_version, arch_operation, version_kind,
    vulnerable_range)
  SELECT DISTINCT ON (s.hash) 'md5', s.hash, s.updater, s.name, s.description, s.issued, s.links, s.severity,
    s.normalized_severity, s.package_name, s.package_version, s.package_module, s.package_arch, s.package_kind,
    s.dist_id, s.dist_name, s.dist_version, s.dist_version_code_name, s.dist_version_id, s.dist_arch, s.dist_cpe,
    s.dist_pretty_name, s.repo_name, s.repo_key, s.repo_uri, s.fixed_in_version, s.arch_operation, s.version_kind,
    coalesce(s.vulnerable_range::versionrange, versionrange('{}', '{}', '()'))
  FROM stage_vuln s
  JOIN stage_plan p ON p.name = s.updater AND p.changed
  ORDER BY s.hash, s.updater
  ON CONFLICT (hash_kind, hash) DO NOTHING
  RETURNING updater
)
INSERT INTO stage_count SELECT updater, 'inserted', count(*) FROM ins GROUP BY updater;
