-- Aliases and "self" aliases (schema >= 17). Links are only ever added; the first self wins.
-- Vulnerability ids come from this load's own id lists (stage_new: inserted now; stage_existing:
-- already stored), not from vuln's hash index, and only links that are missing are inserted: in a
-- refresh nearly all of them exist already.
-- The distinct names, in one pass over the staged rows (few of them: hashed in memory), unless
-- the second session collected them (take-side-aliases.sql made stage_alias_name a view of those).
DO $$
BEGIN
  IF to_regclass('pg_temp.stage_alias_name') IS NULL THEN
    CREATE TEMP TABLE stage_alias_name ON COMMIT DROP AS
    SELECT DISTINCT namespace, name FROM clair_bundle.stage_alias;
  END IF;
END
$$;
INSERT INTO alias_namespace (namespace)
SELECT DISTINCT namespace FROM stage_alias_name ORDER BY 1
ON CONFLICT (namespace) DO NOTHING;
-- Only the new ones.
INSERT INTO alias (namespace, name)
SELECT n.id, d.name
FROM stage_alias_name d
JOIN alias_namespace n ON n.namespace = d.namespace
WHERE NOT EXISTS (SELECT 1 FROM alias al WHERE al.namespace = n.id AND al.name = d.name)
ORDER BY 1, 2
ON CONFLICT (namespace, name) DO NOTHING;
-- The alias rows of the updater copied straight into vuln (direct-end.sql) that the loader numbered
-- with their vulnerability record (stage_alias.ord): the id is that number plus the shift, as
-- record-keys.sql keys the copied rows; no join of millions of hashes with millions of ids. The
-- number is of no use without the shift (the copied rows' ids have gaps), nor for a record a schema
-- < 18 left out or one given up to a staged updater (stage_direct_lost): those rows go by their hash
-- like any other. (When there are none, which is nearly always, the joins read nothing of stage_alias.)
UPDATE clair_bundle.stage_alias SET ord = NULL WHERE ord IS NOT NULL AND NOT EXISTS (SELECT 1 FROM stage_direct_shift);
UPDATE clair_bundle.stage_alias a SET ord = NULL FROM stage_left_out l JOIN stage_direct_shift t ON t.updater = l.updater WHERE a.ord = l.ord;
UPDATE clair_bundle.stage_alias a SET ord = NULL FROM stage_direct_lost g WHERE a.hash = g.hash AND a.ord IS NOT NULL;
-- Apart: the numbered rows' links go straight into the link tables (no copy of millions of them in
-- stage_alias_link first) when nothing can duplicate them: their vulnerabilities are this load's
-- new rows, in link tables direct-begin.sql emptied, and no other alias row links the same
-- vulnerability unless content was staged twice (twice: stage_later, stage_left_out_kept, below).
CREATE TEMP TABLE stage_alias_apart ON COMMIT DROP AS
SELECT EXISTS (SELECT 1 FROM stage_direct_shift) AND NOT twice AS apart, twice
FROM (SELECT EXISTS (SELECT 1 FROM stage_later) OR EXISTS (SELECT 1 FROM stage_left_out_kept) AS twice) t;
-- (fresh: the vulnerability is a row this load inserted, which no link can name yet.)
CREATE TEMP VIEW stage_alias_numbered AS
SELECT t.shift + a.ord AS vulnerability, al.id AS alias, a.kind = 'self' AS self, true AS fresh
FROM clair_bundle.stage_alias a
CROSS JOIN stage_direct_shift t
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.ord IS NOT NULL;
CREATE TEMP TABLE stage_alias_link ON COMMIT DROP AS
SELECT * FROM stage_alias_numbered WHERE NOT (SELECT apart FROM stage_alias_apart);
-- Every other alias row: its id by its hash, from this load's id lists. (The planner knows how few
-- they are after a load that numbered them: stage_alias's statistics, prepare-merge.sql.) Only the
-- links of rows stored before (stage_existing) are looked up in the link tables below: a refresh's
-- new rows have none, and looking theirs up too let the planner choose, on statistics alone,
-- between probing the primary key for each link and hashing all 18 M links of a 9 M-row database
-- (two 1 % refreshes: 1.7 s against 10.9 s).
INSERT INTO stage_alias_link (vulnerability, alias, self, fresh)
SELECT i.id, al.id, a.kind = 'self', i.fresh
FROM clair_bundle.stage_alias a
JOIN (SELECT hash, id, true AS fresh FROM stage_new UNION ALL SELECT hash, id, false FROM stage_existing) i ON i.hash = a.hash
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.ord IS NULL;
-- An updater's alias rows are distinct (the bundle writer merges them per hash); only content
-- staged by more than one changed updater (stage_later), or left out by one and loaded by another
-- (stage_left_out_kept), brings its aliases more than once.
DO $$
BEGIN
  IF (SELECT twice FROM stage_alias_apart) THEN
    CREATE TEMP TABLE stage_alias_link_once ON COMMIT DROP AS SELECT DISTINCT * FROM stage_alias_link;
    TRUNCATE stage_alias_link;
    INSERT INTO stage_alias_link SELECT * FROM stage_alias_link_once;
  END IF;
END
$$;
ANALYZE stage_alias_link;
-- Trusted links (create-staging.sql): no per-row foreign-key triggers for the inserts below.
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = replica; END IF; END $$;
INSERT INTO vulnerability_alias (vulnerability, alias)
SELECT d.vulnerability, d.alias
FROM stage_alias_numbered d
WHERE NOT d.self AND (SELECT apart FROM stage_alias_apart)
UNION ALL
SELECT l.vulnerability, l.alias
FROM stage_alias_link l
WHERE NOT l.self AND l.fresh
UNION ALL
SELECT l.vulnerability, l.alias
FROM stage_alias_link l
WHERE NOT l.self AND NOT l.fresh
  AND NOT EXISTS (SELECT 1 FROM vulnerability_alias v WHERE v.vulnerability = l.vulnerability AND v.alias = l.alias)
ON CONFLICT DO NOTHING;
INSERT INTO vulnerability_self (vulnerability, self)
SELECT DISTINCT ON (l.vulnerability) l.vulnerability, l.alias
FROM (
  SELECT d.vulnerability, d.alias FROM stage_alias_numbered d WHERE d.self AND (SELECT apart FROM stage_alias_apart)
  UNION ALL
  SELECT l.vulnerability, l.alias FROM stage_alias_link l WHERE l.self AND l.fresh
  UNION ALL
  SELECT l.vulnerability, l.alias FROM stage_alias_link l
  WHERE l.self AND NOT l.fresh AND NOT EXISTS (SELECT 1 FROM vulnerability_self v WHERE v.vulnerability = l.vulnerability)
) l
ORDER BY l.vulnerability, l.alias
ON CONFLICT DO NOTHING;
-- (It reads stage_alias, which finish-load.sql drops.)
DROP VIEW stage_alias_numbered;
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = origin; END IF; END $$;
