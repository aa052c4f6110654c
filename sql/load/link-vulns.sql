-- Every staged vulnerability of a changed updater, new or pre-existing, joins its new
-- update operation, without joining the wide staged rows again: ids come from stage_staged_id
-- (resolve-vulns.sql). A new update operation has no links yet and each updater's rows have
-- distinct hashes, so no conflict handling is needed.
-- Trusted links (create-staging.sql): no per-row foreign-key triggers for the inserts below.
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = replica; END IF; END $$;
-- (A keyed refresh's rows that were not staged were linked before: link-prior.sql.)
-- First the rows an initial load copied straight into vuln (direct-end.sql: stage_direct), all of
-- one updater: one insert with its update operation as a value, counted by the statement itself.
-- (Measured at 9 M rows, the whole step: 7.5 s against 16.5 s through the statement below, whose
-- RETURNING keeps every linked row until they are counted.)
DO $$
DECLARE
  copied_name text;
  copied_uo bigint;
  n bigint;
BEGIN
  SELECT d.updater INTO copied_name FROM stage_direct d LIMIT 1;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT p.uo INTO STRICT copied_uo FROM stage_plan p WHERE p.name = copied_name;
  INSERT INTO uo_vuln (uo, vuln) SELECT copied_uo, d.id FROM stage_direct d;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO stage_count VALUES (copied_name, 'linked', n);
END
$$;
-- Then the staged rows.
CREATE TEMP VIEW stage_link AS
SELECT p.uo, i.id FROM stage_staged_id i JOIN stage_plan p ON p.name = i.updater WHERE NOT i.copied;
WITH sorted AS (
  INSERT INTO uo_vuln (uo, vuln)
  SELECT uo, id FROM stage_link
  WHERE NOT EXISTS (SELECT 1 FROM stage_rebuild r WHERE r.tbl = 'uo_vuln'::regclass AND r.ord = 1)
  -- In id order every index insertion and foreign-key probe walks its btree left to right.
  ORDER BY 1, 2
  RETURNING uo
), unsorted AS (
  -- (the initial-load fast path set uo_vuln's primary key aside, with its indexes and foreign keys:
  -- fast-path-begin.sql; the order would serve nothing)
  INSERT INTO uo_vuln (uo, vuln)
  SELECT uo, id FROM stage_link
  WHERE EXISTS (SELECT 1 FROM stage_rebuild r WHERE r.tbl = 'uo_vuln'::regclass AND r.ord = 1)
  RETURNING uo
)
INSERT INTO stage_count
SELECT p.name, 'linked', count(*)
FROM (SELECT uo FROM sorted UNION ALL SELECT uo FROM unsorted) l JOIN stage_plan p ON p.uo = l.uo
GROUP BY p.name;
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = origin; END IF; END $$;

-- Every staged row must now be linked; anything else (e.g. a concurrent writer) fails the load.
DO $$
DECLARE
  bad text;
BEGIN
  SELECT string_agg(format('%s: %s of %s rows linked', p.name, coalesce(l.n, 0), p.row_count - coalesce(o.n, 0)), '; ')
  INTO bad
  FROM stage_plan p
  LEFT JOIN (SELECT updater, sum(n) AS n FROM stage_count WHERE what = 'linked' GROUP BY updater) l ON l.updater = p.name
  LEFT JOIN (SELECT updater, sum(n) AS n FROM stage_count WHERE what = 'left_out' GROUP BY updater) o ON o.updater = p.name
  WHERE p.changed AND p.kind = 'vulnerability' AND coalesce(l.n, 0) <> p.row_count - coalesce(o.n, 0);
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'not every staged row could be linked (%)', bad USING ERRCODE = 'CB005';
  END IF;
END
$$;
