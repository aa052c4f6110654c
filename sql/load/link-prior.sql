-- A keyed refresh (plan-keyed.sql), right after its plan: each keyed updater's new update operation
-- gets the links of its prior one, but for the rows of its keys no longer in the bundle
-- (stage_gone). The loader reads the rows to stage from the bundle meanwhile (src/load/keyed-rows.ts:
-- spoolKeyedRows), so that this statement, most of a refresh's time, does not wait for them nor
-- they for it. Nothing staged later is among these rows: a staged row that is already stored under
-- this updater has a new key, so its old key is gone and its id left out here (link-vulns.sql links
-- it with the other staged rows).
-- Trusted links (create-staging.sql): no per-row foreign-key triggers for the inserts below.
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = replica; END IF; END $$;
-- Read from uo_vuln's primary key for the prior update operation, the links come in id order: no
-- sort of millions of ids, and every index insertion walks its btree left to right (measured at
-- 9 M rows: 21.2 s against 25.9 s linking the stored keys' ids, which had to be sorted). The update
-- operations are values of the statement's plan (PL/pgSQL variables).
DO $$
DECLARE
  r record;
  n bigint;
BEGIN
  FOR r IN SELECT s.name, s.prior_uo, p.uo FROM stage_keyed s JOIN stage_plan p ON p.name = s.name ORDER BY p.uo LOOP
    INSERT INTO uo_vuln (uo, vuln)
    SELECT r.uo, l.vuln
    FROM uo_vuln l
    WHERE l.uo = r.prior_uo
      AND NOT EXISTS (SELECT 1 FROM stage_gone g WHERE g.updater = r.name AND g.vuln = l.vuln)
    ORDER BY l.vuln;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO stage_count VALUES (r.name, 'linked', n);
  END LOOP;
END
$$;
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = origin; END IF; END $$;
