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
    SELECT DISTINCT namespace, name, NULL::integer AS name_ord FROM clair_bundle.stage_alias;
  END IF;
END
$$;
INSERT INTO alias_namespace (namespace)
SELECT DISTINCT namespace FROM stage_alias_name ORDER BY 1
ON CONFLICT (namespace) DO NOTHING;
-- The alias rows of the updater copied straight into vuln (direct-end.sql) that the loader numbered
-- with their vulnerability record (stage_alias.ord): the id is that number plus the shift, as
-- record-keys.sql keys the copied rows; no join of millions of hashes with millions of ids. The
-- number is of no use without the shift (the copied rows' ids have gaps), nor for a record a schema
-- < 18 left out or one given up to a staged updater (stage_direct_lost): those rows go by their hash
-- like any other. (When there are none, which is nearly always, the joins read nothing of stage_alias.
-- When the loader piped the numbered rows' links, pipe-aliases-begin.sql, those rows are not here.)
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
-- The names node numbered (stage_alias_name.name_ord: 1, 2, …, src/load/name-ordinals.ts) when
-- none of them is stored yet (an initial load into a new Clair): they get the ids base + number,
-- from a block of alias's sequence reserved here, so the numbered rows' links are base + name_ord,
-- without looking up a name for each of millions of alias rows (measured on 9 M rows, the whole
-- step: 24.7 s against 32.5-39.1 s). (Only when apart: then no other row links those
-- vulnerabilities.)
CREATE TEMP TABLE stage_alias_base (base bigint NOT NULL) ON COMMIT DROP;
-- (create-staging.sql: pg_temp.reserve_alias_names; none when the loader piped them in already.)
DO $$
DECLARE
  base bigint;
BEGIN
  IF NOT (SELECT apart FROM stage_alias_apart) OR EXISTS (SELECT 1 FROM stage_alias_piped) THEN
    RETURN;
  END IF;
  base := pg_temp.reserve_alias_names('stage_alias_name');
  IF base IS NOT NULL THEN
    INSERT INTO stage_alias_base VALUES (base);
  END IF;
END
$$;
-- The other new names (all of them, without numbers).
INSERT INTO alias (namespace, name)
SELECT n.id, d.name
FROM stage_alias_name d
JOIN alias_namespace n ON n.namespace = d.namespace
WHERE NOT EXISTS (SELECT 1 FROM alias al WHERE al.namespace = n.id AND al.name = d.name)
ORDER BY 1, 2
ON CONFLICT (namespace, name) DO NOTHING;
-- (fresh: the vulnerability is a row this load inserted, which no link can name yet.) Without
-- numbered names' ids (stage_alias_base), each name is looked up (a one-time filter); none when the
-- loader piped their links in already (stage_alias_piped).
CREATE TEMP VIEW stage_alias_numbered AS
SELECT t.shift + a.ord AS vulnerability, al.id AS alias, a.kind = 'self' AS self, true AS fresh
FROM clair_bundle.stage_alias a
CROSS JOIN stage_direct_shift t
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.ord IS NOT NULL AND NOT EXISTS (SELECT 1 FROM stage_alias_base) AND NOT EXISTS (SELECT 1 FROM stage_alias_piped);
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
JOIN (SELECT hash, id, true AS fresh FROM stage_new UNION ALL SELECT hash, id, false FROM stage_existing WHERE NOT copied) i ON i.hash = a.hash
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.ord IS NULL;
-- The rows copied straight into vuln (stage_existing's copied ones, stage_direct: millions) by vuln's
-- own (hash_kind, hash) index, rebuilt by now (fast-path-vuln.sql): a probe for each of the few rows
-- here, where a hash join read all of stage_direct (9 M rows: 1.9 s). vuln holds nothing else but
-- this load's new rows (direct-begin.sql emptied it), which the statement above linked.
INSERT INTO stage_alias_link (vulnerability, alias, self, fresh)
SELECT v.id, al.id, a.kind = 'self', false
FROM clair_bundle.stage_alias a
JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = a.hash
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.ord IS NULL AND EXISTS (SELECT 1 FROM stage_direct) AND NOT EXISTS (SELECT 1 FROM stage_new x WHERE x.id = v.id);
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
-- With numbered names' ids (only when apart), the numbered rows' links are two numbers each: record
-- number + shift, name number + base, values of the statements' plans (PL/pgSQL variables), so
-- millions of rows go from one scan straight into the link tables. Each vulnerability has at most
-- one self alias (the bundle writer keeps the first record's), unless a bundle says otherwise: then
-- the one with the smallest id wins, as below.
DO $$
DECLARE
  id_base bigint;
  id_shift bigint;
BEGIN
  SELECT b.base INTO id_base FROM stage_alias_base b;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT t.shift INTO STRICT id_shift FROM stage_direct_shift t;
  INSERT INTO vulnerability_alias (vulnerability, alias)
  SELECT id_shift + a.ord, id_base + a.name_ord
  FROM clair_bundle.stage_alias a
  WHERE a.ord IS NOT NULL AND a.kind <> 'self';
  INSERT INTO vulnerability_self (vulnerability, self)
  SELECT DISTINCT ON (a.ord) id_shift + a.ord, id_base + a.name_ord
  FROM clair_bundle.stage_alias a
  WHERE a.ord IS NOT NULL AND a.kind = 'self'
  ORDER BY a.ord, a.name_ord;
END
$$;
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
