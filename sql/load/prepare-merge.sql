-- Memory for the big joins and index builds of this transaction only, and statistics for the
-- staged rows so the planner picks hash/merge joins instead of nested loops.
SET LOCAL work_mem = '128MB';
SET LOCAL maintenance_work_mem = '512MB';
ANALYZE stage_vuln;
ANALYZE clair_bundle.stage_alias;
ANALYZE stage_enrichment;
-- Clair's vuln_lookup_idx keeps 13 text columns in one btree entry of at most 2704 bytes after
-- PostgreSQL compressed them: claircore cannot store a row that does not fit, and neither can
-- we. The rare staged row long enough to be in doubt is tried against the same index here, so the
-- error names its file and record (a failing insert into vuln could not).
CREATE TEMP TABLE stage_lookup_probe ON COMMIT DROP AS
SELECT package_name, dist_id, dist_name, dist_pretty_name, dist_version, dist_version_id, package_module,
  dist_version_code_name, repo_name, dist_arch, dist_cpe, repo_key, repo_uri
FROM vuln WITH NO DATA;
CREATE INDEX ON stage_lookup_probe (package_name, dist_id, dist_name, dist_pretty_name, dist_version, dist_version_id,
  package_module, dist_version_code_name, repo_name, dist_arch, dist_cpe, repo_key, repo_uri);
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT s.*, (SELECT u->>'file' FROM stage_manifest m, jsonb_array_elements(m.doc->'updaters') u WHERE u->>'name' = s.updater) AS file
    FROM (
      SELECT updater, name, hash, package_name, dist_id, dist_name, dist_pretty_name, dist_version, dist_version_id,
        package_module, dist_version_code_name, repo_name, dist_arch, dist_cpe, repo_key, repo_uri
      FROM stage_vuln WHERE lookup_bytes > 2000
      UNION ALL -- rows copied straight into vuln (direct-end.sql)
      SELECT v.updater, v.name, v.hash, v.package_name, v.dist_id, v.dist_name, v.dist_pretty_name, v.dist_version, v.dist_version_id,
        v.package_module, v.dist_version_code_name, v.repo_name, v.dist_arch, v.dist_cpe, v.repo_key, v.repo_uri
      FROM stage_direct d JOIN vuln v ON v.id = d.id WHERE d.lookup_bytes > 2000
    ) s
  LOOP
    BEGIN
      INSERT INTO stage_lookup_probe VALUES (r.package_name, r.dist_id, r.dist_name, r.dist_pretty_name, r.dist_version, r.dist_version_id,
        r.package_module, r.dist_version_code_name, r.repo_name, r.dist_arch, r.dist_cpe, r.repo_key, r.repo_uri);
    EXCEPTION WHEN program_limit_exceeded THEN
      RAISE EXCEPTION '%: record % (hash %): its package, distribution and repository fields do not fit one entry of Clair''s vuln_lookup_idx (%); claircore cannot store it either',
        coalesce(r.file, r.updater), r.name, encode(r.hash, 'hex'), SQLERRM USING ERRCODE = 'CB005';
    END;
  END LOOP;
END
$$;
