-- Staging tables, filled by COPY from the bundle's CSV files; dropped at COMMIT/ROLLBACK.
-- Their columns equal the CSV headers (src/model/row.ts), plus computed ones.
CREATE TEMP TABLE stage_vuln (
  hash bytea NOT NULL,
  updater text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  issued timestamptz NOT NULL,
  links text NOT NULL,
  severity text NOT NULL,
  normalized_severity text NOT NULL CHECK (normalized_severity IN ('Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical')),
  package_name text NOT NULL CHECK (package_name <> ''),
  package_version text NOT NULL,
  package_module text NOT NULL,
  package_arch text NOT NULL,
  package_kind text NOT NULL CHECK (package_kind IN ('', 'source', 'binary', 'layer', 'ancestry')),
  dist_id text NOT NULL,
  dist_name text NOT NULL,
  dist_version text NOT NULL,
  dist_version_code_name text NOT NULL,
  dist_version_id text NOT NULL,
  dist_arch text NOT NULL,
  dist_cpe text NOT NULL,
  dist_pretty_name text NOT NULL,
  repo_name text NOT NULL,
  repo_key text NOT NULL,
  repo_uri text NOT NULL,
  fixed_in_version text NOT NULL,
  arch_operation text NOT NULL CHECK (arch_operation IN ('invalid', 'equals', 'not equals', 'pattern match')),
  version_kind text,
  vulnerable_range text,
  not_vulnerable boolean NOT NULL,
  -- Bytes of the columns of Clair's vuln_lookup_idx, computed while copying; the partial index
  -- finds the rare row long enough to need a look (prepare-merge.sql) without another scan.
  lookup_bytes integer GENERATED ALWAYS AS (octet_length(package_name) + octet_length(dist_id) + octet_length(dist_name)
    + octet_length(dist_pretty_name) + octet_length(dist_version) + octet_length(dist_version_id) + octet_length(package_module)
    + octet_length(dist_version_code_name) + octet_length(repo_name) + octet_length(dist_arch) + octet_length(dist_cpe)
    + octet_length(repo_key) + octet_length(repo_uri)) STORED
) ON COMMIT DROP;
CREATE INDEX stage_vuln_long_lookup ON stage_vuln (lookup_bytes) WHERE lookup_bytes > 2000;

-- Rows of an initial load copied straight into vuln (direct-begin.sql, direct-end.sql): their
-- keys, what the checks found (NULL: nothing), and stage_vuln.lookup_bytes. stage_direct_lost:
-- copied content given up to a staged updater with a smaller name. Both stay empty otherwise.
CREATE TEMP TABLE stage_direct (
  id bigint NOT NULL,
  hash bytea NOT NULL,
  updater text,
  problem text,
  lookup_bytes integer
) ON COMMIT DROP;
CREATE TEMP TABLE stage_direct_lost (hash bytea NOT NULL, updater text NOT NULL) ON COMMIT DROP;
-- The copied updater's key ids (record-keys.sql): line number + shift, when the COPY gave its rows
-- ids without gaps (direct-end.sql).
CREATE TEMP TABLE stage_direct_shift (updater text NOT NULL, shift bigint NOT NULL) ON COMMIT DROP;
-- The updater copied straight into vuln whose keys the loader COPYs straight into
-- clair_bundle.row_key with their ids (direct-keys-begin.sql, node loader only), and the shift of
-- those ids; record-keys.sql then leaves them alone. Empty otherwise.
CREATE TEMP TABLE stage_keys_direct (updater text NOT NULL, shift bigint NOT NULL) ON COMMIT DROP;
-- The numbered alias rows' links, when the loader piped them from the second session into the link
-- tables (pipe-aliases-begin.sql, node loader only): with the shift and the base of their names'
-- ids. link-aliases.sql then leaves those rows alone. Empty otherwise.
CREATE TEMP TABLE stage_alias_piped (shift bigint NOT NULL, base bigint NOT NULL) ON COMMIT DROP;
-- The alias names node numbered (`names`: namespace, name, name_ord 1, 2, …;
-- src/load/name-ordinals.ts), when none of them is stored yet (an initial load into a new Clair)
-- and the role may move alias's sequence: their namespaces, a block of that sequence reserved for
-- them, and each name with the id base + its number. Returns the base; NULL when it did nothing
-- (no name numbered, one stored already: the load then looks each name up). A name someone else
-- inserted meanwhile fails the load (CB005) instead of being linked wrongly. One definition for
-- link-aliases.sql and pipe-aliases-begin.sql, which read the names from different relations (the
-- latter before take-side-aliases.sql made its view of them). (A temporary function, as the tables
-- here: the session's own, gone with it.)
CREATE OR REPLACE FUNCTION pg_temp.reserve_alias_names(names regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  seq text := pg_get_serial_sequence('alias', 'id');
  numbered bigint;
  stored boolean;
  base bigint;
  n bigint;
BEGIN
  IF seq IS NULL OR NOT has_sequence_privilege(seq, 'UPDATE') THEN
    RETURN NULL;
  END IF;
  EXECUTE format('SELECT count(*) FROM %s d WHERE d.name_ord IS NOT NULL', names) INTO numbered;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s d JOIN alias_namespace ns ON ns.namespace = d.namespace
    JOIN alias al ON al.namespace = ns.id AND al.name = d.name WHERE d.name_ord IS NOT NULL)', names) INTO stored;
  IF numbered = 0 OR stored THEN
    RETURN NULL;
  END IF;
  EXECUTE format('INSERT INTO alias_namespace (namespace) SELECT DISTINCT d.namespace FROM %s d WHERE d.name_ord IS NOT NULL ORDER BY 1
    ON CONFLICT (namespace) DO NOTHING', names);
  base := setval(seq, nextval(seq) + numbered - 1) - numbered;
  EXECUTE format('INSERT INTO alias (id, namespace, name) OVERRIDING SYSTEM VALUE
    SELECT $1 + d.name_ord, ns.id, d.name FROM %s d JOIN alias_namespace ns ON ns.namespace = d.namespace
    WHERE d.name_ord IS NOT NULL ORDER BY 1 ON CONFLICT (namespace, name) DO NOTHING', names) USING base;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n <> numbered THEN
    RAISE EXCEPTION 'alias names were written by someone else during the load (% of % new names inserted)', n, numbered USING ERRCODE = 'CB005';
  END IF;
  RETURN base;
END
$$;

-- Alias rows: an UNLOGGED table of ours, not a TEMP one, so that PostgreSQL may read it with
-- parallel workers (it never does for a temporary table): at 9 M rows, 27 M alias rows are read
-- twice in link-aliases.sql, in about 60 % of the time. Created inside the load's transaction and
-- dropped before its COMMIT (finish-load.sql): a rollback or a crash leaves nothing behind, and
-- loads take turns (lock-load.sql).
CREATE UNLOGGED TABLE clair_bundle.stage_alias (
  hash bytea NOT NULL,
  kind text NOT NULL CHECK (kind IN ('self', 'alias')),
  namespace text NOT NULL CHECK (namespace <> ''),
  name text NOT NULL CHECK (name <> ''),
  -- The updater copied straight into vuln (direct-begin.sql): the number of the record with this
  -- hash in its vulnerability file, which the node loader found in its keys file while copying
  -- (src/load/alias-ordinals.ts). NULL: any other alias row, or no key with this hash.
  ord bigint,
  -- Also of that updater's alias rows, copied by the second session: the number node gave their
  -- (namespace, name) (src/load/name-ordinals.ts, stage_alias_name_next). NULL otherwise.
  name_ord integer
);

CREATE TEMP TABLE stage_enrichment (
  hash bytea NOT NULL,
  updater text NOT NULL,
  tags text[] NOT NULL,
  -- Valid JSON, checked while copying (naming the line), not later in link-enrichments.sql.
  data text NOT NULL CHECK (data::jsonb IS NOT NULL)
) ON COMMIT DROP;

-- Mapping documents arrive line by line; n keeps the file order.
CREATE TEMP TABLE stage_mapping_line (
  n bigserial,
  name text,
  line text NOT NULL
) ON COMMIT DROP;

-- Trusted links (README "Performance"). A role allowed to set session_replication_role (a
-- superuser; PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role) inserts the link
-- rows of this load without PostgreSQL's per-row foreign-key triggers, which otherwise lock every
-- referenced vuln row one by one (most of a refresh). The links stay correct without them: every
-- id comes from a row this transaction inserted or read while lock-references.sql's SHARE locks on
-- the referenced tables keep anyone from deleting rows until COMMIT. Any other role: the triggers.
CREATE TEMP TABLE stage_trust (links boolean NOT NULL) ON COMMIT DROP;
DO $$
BEGIN
  -- Setting it to its current value needs the same privilege as changing it, and changes nothing.
  PERFORM set_config('session_replication_role', current_setting('session_replication_role'), true);
  -- LOCK … IN SHARE MODE needs UPDATE, DELETE or TRUNCATE on the table.
  INSERT INTO stage_trust
  SELECT current_setting('session_replication_role') = 'origin' AND bool_and(
    has_table_privilege(t, 'UPDATE') OR has_table_privilege(t, 'DELETE') OR has_table_privilege(t, 'TRUNCATE'))
  FROM unnest(array_remove(ARRAY['vuln'::regclass, 'enrichment'::regclass, to_regclass('alias')], NULL)) t;
EXCEPTION WHEN insufficient_privilege THEN
  INSERT INTO stage_trust VALUES (false);
END
$$;

-- Row keys (bundle keys/*.csv, node loader): one row per vulnerability row of each changed updater
-- whose bundle has them; the updater comes from clair_bundle.copy_updater, set before each COPY.
-- ord: the key's line in its file, from 1 (the loader numbers the lines while it copies them).
CREATE TEMP TABLE stage_row_key (
  updater text NOT NULL DEFAULT current_setting('clair_bundle.copy_updater'),
  hash bytea NOT NULL,
  digest bytea NOT NULL,
  vuln_at bigint NOT NULL,
  vuln_bytes bigint NOT NULL,
  alias_at bigint NOT NULL,
  alias_bytes bigint NOT NULL,
  ord bigint NOT NULL
) ON COMMIT DROP;
-- The updaters whose keys file this load copied (key-updater.sql; direct-keys-begin.sql for those
-- COPYed straight into row_key), so that whether an updater has keys is not looked up among
-- millions of them.
CREATE TEMP TABLE stage_keys_file (updater text PRIMARY KEY) ON COMMIT DROP;
-- The "not vulnerable" rows a schema < 18 leaves out: staged ones (drop-not-vulnerable.sql), and
-- those of a file copied straight into vuln, which the loader filtered out while copying and copies
-- here afterwards (hash, ord: the record's number in its file; the updater from
-- clair_bundle.copy_updater, left-out-updater.sql). Their keys are kept without a vuln id
-- (record-keys.sql).
CREATE TEMP TABLE stage_left_out (
  updater text NOT NULL DEFAULT current_setting('clair_bundle.copy_updater'),
  hash bytea NOT NULL,
  ord bigint
) ON COMMIT DROP;
-- Content left out that is also loaded as a vulnerability (drop-not-vulnerable.sql): the aliases of
-- the record left out stay, for that row, beside the loaded record's own.
CREATE TEMP TABLE stage_left_out_kept (hash bytea NOT NULL) ON COMMIT DROP;
-- Updaters whose refresh stages only the rows with new digests (plan-keyed.sql), with the update
-- operation their stored keys belong to; stage_changed: their keys that are new (to stage);
-- stage_gone: their stored keys that are not in the bundle any more. Both are few.
-- (without_id: its stored keys without a vuln id, rows a schema < 18 left out.)
CREATE TEMP TABLE stage_keyed (name text PRIMARY KEY, prior_uo bigint NOT NULL, staged bigint NOT NULL, without_id bigint NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE stage_changed (
  updater text NOT NULL,
  hash bytea NOT NULL,
  digest bytea NOT NULL,
  vuln_at bigint NOT NULL,
  vuln_bytes bigint NOT NULL,
  alias_at bigint NOT NULL,
  alias_bytes bigint NOT NULL
) ON COMMIT DROP;
-- stage_gone also keeps the key's vuln id (NULL: a row left out) and its place in row_key (at), so
-- that link-vulns.sql leaves its row out of the update operation's links and record-keys.sql
-- deletes the key, neither reading the millions of stored keys again.
CREATE TEMP TABLE stage_gone (updater text NOT NULL, digest bytea NOT NULL, vuln bigint, at tid NOT NULL) ON COMMIT DROP;
