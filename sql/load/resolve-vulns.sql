-- After resolve-keys.sql (or resolve-keys-direct.sql): stage_key, stage_resolved, stage_existing.
-- Content staged by more than one updater is inserted once, by the first updater by name;
-- these are the others' rows (they link to the row the first one inserts). Within one updater
-- hashes are unique, so content staged twice has a row outside the biggest updater: those few
-- rows, and the biggest updater's rows with one of their hashes (a semi-join: the few are hashed,
-- the millions only read, once), are all the rows of shared content; they alone are grouped.
CREATE TEMP TABLE stage_later ON COMMIT DROP AS
WITH big AS (
  SELECT name FROM stage_plan WHERE changed AND kind = 'vulnerability' ORDER BY row_count DESC, name LIMIT 1
), others AS (
  SELECT k.hash, k.updater FROM stage_key k WHERE k.updater <> (SELECT name FROM big)
), candidates AS (
  SELECT hash, updater FROM others
  UNION ALL
  SELECT k.hash, k.updater FROM stage_key k WHERE k.updater = (SELECT name FROM big) AND EXISTS (SELECT 1 FROM others o WHERE o.hash = k.hash)
), firsts AS (
  SELECT hash, min(updater) AS first FROM candidates GROUP BY hash HAVING count(*) > 1
)
SELECT c.hash, c.updater
FROM candidates c
JOIN firsts f ON f.hash = c.hash AND c.updater <> f.first;

-- A refresh inserts few rows: stage_vuln keeps only the staged rows without a vuln row, so
-- insert-vulns.sql reads a small table instead of every staged row again (nothing after it reads
-- stage_vuln). They are fetched by their place in stage_vuln (a TID scan per row), not by a
-- join that reads the whole wide table once more. An initial load keeps them all.
DO $$
DECLARE
  cols text;
BEGIN
  IF EXISTS (SELECT 1 FROM stage_existing) THEN
    CREATE TEMP TABLE stage_vuln_missing ON COMMIT DROP AS
    SELECT s.* FROM stage_resolved r JOIN stage_vuln s ON s.ctid = r.tid WHERE r.id IS NULL;
    TRUNCATE stage_vuln;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute WHERE attrelid = 'stage_vuln'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('INSERT INTO stage_vuln (%s) SELECT %s FROM stage_vuln_missing', cols, cols);
    ANALYZE stage_vuln;
  END IF;
END
$$;

CREATE TEMP TABLE stage_new (id bigint NOT NULL, hash bytea NOT NULL, updater text NOT NULL) ON COMMIT DROP;
-- The vuln id of every staged row, once insert-vulns.sql filled stage_new: inserted now (stage_new),
-- stored already (stage_existing), or content another updater inserted now (stage_later, by hash).
-- (copied: one of the rows copied straight into vuln, stage_direct: link-vulns.sql links them apart.)
CREATE TEMP VIEW stage_staged_id AS
SELECT hash, updater, id, false AS copied FROM stage_new
UNION ALL
SELECT hash, updater, id, copied FROM stage_existing
UNION ALL
SELECT l.hash, l.updater, n.id, false FROM stage_later l JOIN stage_new n ON n.hash = l.hash;
ANALYZE stage_later;
