-- Row keys of this load (plan-keyed.sql), kept for the next refresh of each changed vulnerability
-- updater: digest → vuln id for every row it linked, for its new update operation, and digest → NULL
-- for every row it left out (schema < 18: drop-not-vulnerable.sql). A changed updater whose keys
-- were not staged (psql -f load.sql, a bundle without keys) keeps none, so its next refresh stages
-- every row.
DELETE FROM clair_bundle.row_key_source s USING stage_plan p WHERE s.updater = p.name AND p.changed;
-- A keyed updater keeps the stored keys still in the bundle; any other changed updater, none.
DELETE FROM clair_bundle.row_key m
USING stage_plan p
WHERE m.updater = p.name AND p.changed AND NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = p.name);
-- A keyed updater's keys no longer in the bundle, by their places (plan-keyed.sql read them in this
-- transaction, and nothing else writes row_key while loads take turns: lock-load.sql), each checked
-- to still be that key; not by a join with the millions of stored keys (measured at 9 M keys:
-- 0.26 s against 2.2 s).
DO $$
DECLARE
  n bigint;
BEGIN
  DELETE FROM clair_bundle.row_key m
  WHERE m.ctid = ANY (ARRAY(SELECT g.at FROM stage_gone g))
    AND EXISTS (SELECT 1 FROM stage_gone g WHERE g.at = m.ctid AND g.updater = m.updater AND g.digest = m.digest);
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n <> (SELECT count(*) FROM stage_gone) THEN
    RAISE EXCEPTION 'the stored row keys changed during the load (% of % deleted)', n, (SELECT count(*) FROM stage_gone) USING ERRCODE = 'CB005';
  END IF;
END
$$;
-- The updater copied straight into vuln (direct-end.sql): its ids follow its file's records, one
-- per record, and its keys file lists the same records in the same order (the loader copies a keys
-- file only when it was made from that very file and has as many lines), so when the ids have no
-- gaps (stage_direct_shift) a key's id is its line number plus a shift: no join of millions of
-- keys with millions of ids. The records a schema < 18 left out while copying (stage_left_out.ord)
-- have no row: their keys get none. The few rows given up to a staged updater
-- (stage_direct_lost) go through the join below.
-- The updater's name and whether any row was given up are the values of the statement's plan (a
-- PL/pgSQL variable: a custom plan), so the planner counts that updater's keys from their statistics
-- and hashes the records left out, not millions of keys; and checks nothing when none was given up.
DO $$
DECLARE
  copied_updater text;
  id_shift bigint;
  any_lost boolean := EXISTS (SELECT 1 FROM stage_direct_lost);
BEGIN
  SELECT t.updater, t.shift INTO copied_updater, id_shift FROM stage_direct_shift t;
  -- (Read nothing at all unless a file was copied: a refresh's keys may number millions. Nor when
  -- the loader COPYs those keys straight into row_key after this: direct-keys-begin.sql.)
  IF NOT FOUND OR EXISTS (SELECT 1 FROM stage_keys_direct) THEN
    RETURN;
  END IF;
  INSERT INTO clair_bundle.row_key (updater, digest, vuln)
  SELECT k.updater, k.digest, CASE WHEN l.ord IS NULL THEN k.ord + id_shift END
  FROM stage_row_key k
  LEFT JOIN stage_left_out l ON l.updater = k.updater AND l.ord = k.ord
  WHERE k.updater = copied_updater
    AND (NOT any_lost OR NOT EXISTS (SELECT 1 FROM stage_direct_lost g WHERE g.hash = k.hash AND g.updater = k.updater));
END
$$;
-- Every other key to store: of a keyed updater, its changed keys; of any other, all of its keys (of
-- the copied updater: those given up). Kept, with statistics, for the two joins below (after an
-- initial load that copied the biggest updater straight into vuln, they are few).
CREATE TEMP TABLE stage_key_rest ON COMMIT DROP AS
SELECT updater, hash, digest FROM stage_changed
UNION ALL
SELECT r.updater, r.hash, r.digest FROM stage_row_key r
WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = r.updater)
  AND r.updater NOT IN (SELECT t.updater FROM stage_direct_shift t) -- (at most one: hashed)
  -- (checked once: a refresh of keyed updaters alone, the usual one, reads none of their keys here)
  AND EXISTS (
    SELECT 1 FROM stage_keys_file f
    WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = f.updater)
      AND f.updater NOT IN (SELECT t.updater FROM stage_direct_shift t))
UNION ALL
SELECT r.updater, r.hash, r.digest FROM stage_row_key r
JOIN stage_direct_lost l ON l.hash = r.hash AND l.updater = r.updater
WHERE EXISTS (SELECT 1 FROM stage_direct_shift t WHERE t.updater = r.updater)
  -- (checked once: with none given up, which is nearly always, the copied updater's millions of
  -- keys are not read only to find no match; measured 3.4 s at 9 M rows)
  AND EXISTS (SELECT 1 FROM stage_direct_lost);
ANALYZE stage_key_rest;
-- Their ids, as link-vulns.sql linked them (stage_staged_id). When the copied updater's keys were
-- stored above, none of these is a row copied straight into vuln (the ones given up have other
-- ids): the millions of copied rows are then not read (a one-time filter).
INSERT INTO clair_bundle.row_key (updater, digest, vuln)
SELECT k.updater, k.digest, i.id
FROM stage_key_rest k
JOIN stage_staged_id i ON i.hash = k.hash AND i.updater = k.updater
WHERE NOT i.copied OR NOT EXISTS (SELECT 1 FROM stage_direct_shift);
-- And the rows left out (schema < 18), without an id.
INSERT INTO clair_bundle.row_key (updater, digest, vuln)
SELECT k.updater, k.digest, NULL
FROM stage_key_rest k
JOIN stage_left_out l ON l.hash = k.hash AND l.updater = k.updater
WHERE EXISTS (SELECT 1 FROM stage_left_out);
INSERT INTO clair_bundle.row_key_source (updater, uo)
SELECT p.name, p.uo FROM stage_plan p
JOIN stage_keys_file f ON f.updater = p.name
WHERE p.changed AND p.kind = 'vulnerability';
