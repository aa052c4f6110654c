-- Keyed refresh (node loader, after the keys files were copied into stage_row_key). A changed
-- vulnerability updater whose keys this tool stored at its last load (clair_bundle.row_key), for
-- the update operation that is still its latest, stages only the rows whose digest is not among
-- them. Every other row keeps its vuln row: Clair never changes a vuln row and links are only
-- added, so that row holds that content with at least those alias links, exactly what staging the
-- row again would find. The stored keys are those of exactly the rows linked to that update
-- operation when it was created, and rows are only ever unlinked from it later (a vuln row deleted,
-- cascading), never linked to it: while it still has as many links as keys with an id, every key's
-- row is still there, and its links are those rows (link-vulns.sql links them again, but for the
-- rows of the keys no longer in the bundle). Keys without an id stand for "not vulnerable" rows a
-- schema < 18 left out: they are left out again (counted as such), and are no use once the schema
-- stores such rows (stage_run.has_not_vulnerable, detect-schema.sql). More than a twentieth of an
-- updater's rows new (their places are held in memory): it stages all of them.
SET LOCAL work_mem = '128MB';
ANALYZE stage_row_key;
-- (Each count once, for the updater that qualifies otherwise: its stored keys in one pass, its
-- update operation's links by their index.)
INSERT INTO stage_keyed (name, prior_uo, staged, without_id)
SELECT c.name, c.uo, 0, m.without_id
FROM (
  SELECT p.name, s.uo
  FROM stage_plan p
  JOIN clair_bundle.row_key_source s ON s.updater = p.name AND s.uo = p.prev_uo
  JOIN stage_keys_file f ON f.updater = p.name
  WHERE p.changed AND p.kind = 'vulnerability'
  OFFSET 0
) c
CROSS JOIN LATERAL (
  SELECT count(m.vuln) AS with_id, count(*) - count(m.vuln) AS without_id
  FROM clair_bundle.row_key m WHERE m.updater = c.name
) m
WHERE m.with_id = (SELECT count(*) FROM uo_vuln l WHERE l.uo = c.uo)
  AND NOT ((SELECT has_not_vulnerable FROM stage_run) AND m.without_id > 0);
-- The differences only, in one pass per updater: new keys (to stage) and stored keys no longer in
-- the bundle, with their vuln ids and places in row_key (link-vulns.sql, record-keys.sql). The
-- updater's name is a value of each statement's plan (a PL/pgSQL variable): both sides are read
-- for it alone and joined by digest only (measured at 9 M keys: 9.3 s against 11.8 s joining both
-- sides to stage_keyed and by updater and digest).
CREATE TEMP TABLE stage_key_diff (
  updater text, hash bytea, digest bytea, vuln_at bigint, vuln_bytes bigint, alias_at bigint, alias_bytes bigint,
  gone_digest bytea, gone_vuln bigint, gone_at tid
) ON COMMIT DROP;
DO $$
DECLARE
  keyed text;
BEGIN
  FOR keyed IN SELECT name FROM stage_keyed ORDER BY name LOOP
    INSERT INTO stage_key_diff
    SELECT keyed, k.hash, k.digest, k.vuln_at, k.vuln_bytes, k.alias_at, k.alias_bytes, m.digest, m.vuln, m.ctid
    FROM (SELECT r.hash, r.digest, r.vuln_at, r.vuln_bytes, r.alias_at, r.alias_bytes FROM stage_row_key r WHERE r.updater = keyed) k
    FULL JOIN (SELECT r.digest, r.vuln, r.ctid FROM clair_bundle.row_key r WHERE r.updater = keyed) m ON m.digest = k.digest
    WHERE k.digest IS NULL OR m.digest IS NULL;
  END LOOP;
END
$$;
INSERT INTO stage_changed
SELECT updater, hash, digest, vuln_at, vuln_bytes, alias_at, alias_bytes FROM stage_key_diff WHERE digest IS NOT NULL;
INSERT INTO stage_gone SELECT updater, gone_digest, gone_vuln, gone_at FROM stage_key_diff WHERE gone_digest IS NOT NULL;
UPDATE stage_keyed s SET staged = (SELECT count(*) FROM stage_changed c WHERE c.updater = s.name);
DELETE FROM stage_keyed s USING stage_plan p WHERE p.name = s.name AND s.staged * 20 > p.row_count;
DELETE FROM stage_changed c WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = c.updater);
DELETE FROM stage_gone g WHERE NOT EXISTS (SELECT 1 FROM stage_keyed s WHERE s.name = g.updater);
-- The stored keys without an id still in the bundle: rows left out again.
INSERT INTO stage_count
SELECT l.name, 'left_out', l.n
FROM (
  SELECT s.name, s.without_id - (SELECT count(*) FROM stage_gone g WHERE g.updater = s.name AND g.vuln IS NULL) AS n
  FROM stage_keyed s
) l
WHERE l.n > 0;
ANALYZE stage_changed;
ANALYZE stage_gone;
SELECT s.name, p.row_count AS rows, s.staged FROM stage_keyed s JOIN stage_plan p ON p.name = s.name ORDER BY s.name;
