-- After the COPY straight into vuln (direct-begin.sql): vuln.hash_kind loses its default again,
-- and the copied rows are read once for their ids and keys (stage_direct) and for what
-- stage_vuln's constraints would have refused (create-staging.sql), reported like a COPY error:
-- file and line; unless node checked them as it converted them (direct-checked.sql): then only
-- their ids and keys are read. (Ids follow the file's records: one COPY, and vuln's table lock
-- keeps other writers out; the loader wrote them, record n's id = stage_direct_plan.shift + n,
-- unless vuln.id has no sequence to reserve them from: then the COPY took the column's default.)
ALTER TABLE vuln ALTER COLUMN hash_kind DROP DEFAULT;
-- Made anew by CREATE TABLE AS (create-staging.sql's stays empty otherwise; same columns), which
-- writes millions of rows in bulk, faster than INSERT … SELECT into the empty one, and may read vuln
-- with parallel workers, which do the checks; the copied updater's name is a value of the statement
-- (a subquery run once). At default costs the planner keeps 9 M rows serial; with the workers'
-- costs set to nothing for this one statement, measured on 9 M rows: 6-9 s instead of 10-16 s.
DROP TABLE stage_direct;
-- How many: stage_direct_copied, for the count of inserted rows below (no second read of millions).
CREATE TEMP TABLE stage_direct_copied (n bigint NOT NULL) ON COMMIT DROP;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
DO $$
DECLARE
  n bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM stage_direct_checked) THEN
    -- Node checked them as it converted the file (direct-checked.sql): only their ids and keys,
    -- and the bytes of the long ones it noted (nearly always none: a constant).
    IF (SELECT cardinality(c.long_ids) FROM stage_direct_checked c) = 0 THEN
      CREATE TEMP TABLE stage_direct ON COMMIT DROP AS
      SELECT v.id, v.hash, v.updater, NULL::text AS problem, 0 AS lookup_bytes FROM vuln v;
    ELSE
      CREATE TEMP TABLE stage_direct ON COMMIT DROP AS
      SELECT v.id, v.hash, v.updater, NULL::text AS problem,
        CASE WHEN v.id = ANY ((SELECT c.long_ids FROM stage_direct_checked c)::bigint[]) THEN
          octet_length(v.package_name) + octet_length(v.dist_id) + octet_length(v.dist_name) + octet_length(v.dist_pretty_name)
          + octet_length(v.dist_version) + octet_length(v.dist_version_id) + octet_length(v.package_module)
          + octet_length(v.dist_version_code_name) + octet_length(v.repo_name) + octet_length(v.dist_arch) + octet_length(v.dist_cpe)
          + octet_length(v.repo_key) + octet_length(v.repo_uri) ELSE 0 END AS lookup_bytes
      FROM vuln v;
    END IF;
  ELSE
    CREATE TEMP TABLE stage_direct ON COMMIT DROP AS
    SELECT v.id, v.hash, v.updater,
      CASE
        WHEN v.updater IS DISTINCT FROM (SELECT d.name FROM stage_direct_plan d)
          THEN format('updater %s in the file of updater %s', coalesce(quote_literal(v.updater), 'NULL'), (SELECT d.name FROM stage_direct_plan d))
        WHEN num_nulls(v.name, v.description, v.issued, v.links, v.severity, v.normalized_severity, v.package_name,
          v.package_version, v.package_module, v.package_arch, v.package_kind, v.dist_id, v.dist_name, v.dist_version,
          v.dist_version_code_name, v.dist_version_id, v.dist_arch, v.dist_cpe, v.dist_pretty_name, v.repo_name, v.repo_key,
          v.repo_uri, v.fixed_in_version, v.arch_operation) > 0 THEN 'an empty unquoted field (NULL) where a value is required'
        WHEN v.normalized_severity NOT IN ('Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical')
          THEN format('normalized_severity %s is not one of Unknown, Negligible, Low, Medium, High, Critical', quote_literal(v.normalized_severity))
        WHEN v.package_name = '' THEN 'package_name is empty'
        WHEN v.package_kind NOT IN ('', 'source', 'binary', 'layer', 'ancestry')
          THEN format('package_kind %s is not one of source, binary, layer, ancestry or empty', quote_literal(v.package_kind))
        WHEN v.arch_operation NOT IN ('invalid', 'equals', 'not equals', 'pattern match')
          THEN format('arch_operation %s is not one of invalid, equals, not equals, pattern match', quote_literal(v.arch_operation))
      END AS problem,
      -- As stage_vuln.lookup_bytes: prepare-merge.sql tries the rare long row against Clair's lookup index.
      octet_length(v.package_name) + octet_length(v.dist_id) + octet_length(v.dist_name) + octet_length(v.dist_pretty_name)
        + octet_length(v.dist_version) + octet_length(v.dist_version_id) + octet_length(v.package_module)
        + octet_length(v.dist_version_code_name) + octet_length(v.repo_name) + octet_length(v.dist_arch) + octet_length(v.dist_cpe)
        + octet_length(v.repo_key) + octet_length(v.repo_uri) AS lookup_bytes
    FROM vuln v;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO stage_direct_copied VALUES (n);
END
$$;
SET LOCAL parallel_setup_cost TO DEFAULT;
SET LOCAL parallel_tuple_cost TO DEFAULT;
-- Before any is given up (below): vuln holds only the copied rows, its primary key gives the first
-- and last ids, and the COPY was checked to have as many rows as the manifest says. Without gaps,
-- the id of the file's record n is first + n - 1; ids the loader wrote (direct-begin.sql) are shift + n,
-- within the reserved block (not for a keyed updater, whose stored keys stay).
INSERT INTO stage_direct_shift
SELECT d.name, coalesce(d.shift, v.first_id - 1)
FROM stage_direct_plan d
JOIN stage_plan p ON p.name = d.name
CROSS JOIN (SELECT min(id) AS first_id, max(id) AS last_id FROM vuln) v
WHERE CASE WHEN d.shift IS NULL THEN v.last_id - v.first_id + 1 = p.row_count
           ELSE v.first_id > d.shift AND v.last_id <= d.shift + p.row_count END
  AND NOT EXISTS (SELECT 1 FROM stage_keyed x WHERE x.name = d.name);
DO $$
DECLARE
  bad record;
BEGIN
  -- (Nothing to find when node checked them: no scan of millions of rows.)
  IF EXISTS (SELECT 1 FROM stage_direct_checked) THEN
    RETURN;
  END IF;
  SELECT s.id, s.problem INTO bad FROM stage_direct s WHERE s.problem IS NOT NULL ORDER BY s.id LIMIT 1;
  IF FOUND THEN
    -- Record n is on line n + 1 (the header is line 1).
    RAISE EXCEPTION '% line %: %', (SELECT file FROM stage_direct_plan),
      bad.id - coalesce((SELECT shift FROM stage_direct_plan), (SELECT min(id) FROM stage_direct) - 1) + 1, bad.problem
      USING ERRCODE = 'CB005';
  END IF;
END
$$;
ANALYZE stage_direct;
ANALYZE stage_vuln;
-- Content that a changed updater staged too, under a smaller name: staging everything keeps that
-- updater's row (resolve-vulns.sql: the first by name inserts), so the copied row goes and its
-- updater links to the other one's (stage_direct_lost). Real feeds hardly ever share content.
WITH lost AS (
  DELETE FROM vuln v
  USING stage_direct d
  WHERE v.id = d.id
    AND EXISTS (SELECT 1 FROM stage_vuln s JOIN stage_plan p ON p.name = s.updater AND p.changed
                WHERE s.hash = d.hash AND s.updater < d.updater
                  -- (not to a row that a schema < 18 leaves out: drop-not-vulnerable.sql)
                  AND (NOT s.not_vulnerable OR (SELECT r.has_not_vulnerable FROM stage_run r)))
  RETURNING v.hash, v.updater
)
INSERT INTO stage_direct_lost (hash, updater) SELECT hash, updater FROM lost;
DELETE FROM stage_direct d USING stage_direct_lost l WHERE l.hash = d.hash;
-- Every copied row is the copied updater's (checked above); the rows given up were one each.
INSERT INTO stage_count
SELECT d.name, 'inserted', c.n - (SELECT count(*) FROM stage_direct_lost)
FROM stage_direct_plan d CROSS JOIN stage_direct_copied c;
-- Statistics for the small tables, which the planner would otherwise take for big ones
-- (record-keys.sql hashes the records left out, by their count; plan-keyed.sql analyzed the keys).
-- Not vuln's: the statements that follow join it only by its primary key or read stage_direct
-- instead, and fast-path-vuln.sql analyzes it once its indexes are back, as Clair's queries need.
-- (ANALYZE here as well took 0.8 s of a 1 M-row load, its sample's 25 text columns sorted.)
ANALYZE stage_direct_lost;
ANALYZE stage_direct_shift;
ANALYZE stage_left_out;
