-- A stand-in for Clair's matcher schema, written from clair-matcher-db.md §1 so that tests
-- and `demo` can run without Clair. It leaves a database in the state claircore's matcher
-- migrations 1..16 leave it (Clair v4.9.0 / claircore v1.5.48). The conformance oracle
-- (test/oracle) diffs it against claircore's real migrations. Not used against real Clair
-- databases: there, Clair owns its schema.

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- One row per updater run ("update operation").
CREATE TABLE update_operation (
  id          bigserial PRIMARY KEY,
  ref         uuid UNIQUE DEFAULT uuid_generate_v4(),
  updater     text NOT NULL,
  fingerprint text,
  date        timestamptz DEFAULT now(),
  kind        text
);
CREATE INDEX uo_updater_idx ON update_operation (updater);
CREATE INDEX update_operation_updater_idx ON update_operation (updater);
CREATE INDEX update_operation_kind_idx ON update_operation (kind);

-- Version ranges: a range over int4[] (the declared [10] is ignored by PostgreSQL).
CREATE TYPE versionrange AS RANGE (subtype = integer[]);

-- Content-addressed, write-once vulnerability records.
CREATE TABLE vuln (
  id                     bigserial PRIMARY KEY,
  hash_kind              text NOT NULL,
  hash                   bytea NOT NULL,
  updater                text,
  name                   text,
  description            text,
  issued                 timestamptz,
  links                  text,
  severity               text,
  normalized_severity    text,
  package_name           text,
  package_version        text,
  package_module         text,
  package_arch           text,
  package_kind           text,
  dist_id                text,
  dist_name              text,
  dist_version           text,
  dist_version_code_name text,
  dist_version_id        text,
  dist_arch              text,
  dist_cpe               text,
  dist_pretty_name       text,
  repo_name              text,
  repo_key               text,
  repo_uri               text,
  fixed_in_version       text,
  arch_operation         text,
  vulnerable_range       versionrange NOT NULL DEFAULT versionrange('{}', '{}', '()'),
  version_kind           text,
  UNIQUE (hash_kind, hash)
);
CREATE INDEX vuln_lookup_idx ON vuln (package_name, dist_id, dist_name, dist_pretty_name,
  dist_version, dist_version_id, package_module, dist_version_code_name, repo_name, dist_arch,
  dist_cpe, repo_key, repo_uri);
CREATE INDEX vuln_updater_idx ON vuln (updater);

-- Which vulnerabilities belong to which update operation.
CREATE TABLE uo_vuln (
  uo   bigint REFERENCES update_operation (id) ON DELETE CASCADE,
  vuln bigint REFERENCES vuln (id) ON DELETE CASCADE,
  PRIMARY KEY (uo, vuln)
);
CREATE INDEX uo_vuln_vuln_idx ON uo_vuln (vuln);
CREATE INDEX uo_vuln_uo_idx ON uo_vuln (uo);

-- Legacy helper view (unused by claircore code).
CREATE VIEW latest_vuln AS
SELECT v.*
FROM (SELECT DISTINCT ON (updater) id FROM update_operation ORDER BY updater, id DESC) uo
  JOIN uo_vuln ON uo_vuln.uo = uo.id
  JOIN vuln v ON uo_vuln.vuln = v.id;

-- Content-addressed enrichment blobs and their links.
CREATE TABLE enrichment (
  id        bigserial PRIMARY KEY,
  hash_kind text,
  hash      bytea,
  updater   text,
  tags      text[],
  data      jsonb
);
CREATE UNIQUE INDEX enrichment_hash_kind_hash_idx ON enrichment (hash_kind, hash);
CREATE INDEX enrichment_tags_idx ON enrichment USING gin (tags);
CREATE INDEX enrichment_updater_idx ON enrichment (updater);

CREATE TABLE uo_enrich (
  uo          bigint REFERENCES update_operation (id) ON DELETE CASCADE,
  enrich      bigint REFERENCES enrichment (id) ON DELETE CASCADE,
  updater     text,
  fingerprint text,
  date        timestamptz,
  PRIMARY KEY (uo, enrich)
);
CREATE INDEX uo_enrich_enrich_idx ON uo_enrich (enrich);
CREATE INDEX uo_enrich_uo_idx ON uo_enrich (uo);

-- Informational updater status (written by Clair's update manager, read by nobody).
CREATE TABLE updater_status (
  updater_name             text PRIMARY KEY,
  last_attempt             timestamptz DEFAULT now(),
  last_success             timestamptz,
  last_run_succeeded       boolean,
  last_attempt_fingerprint text,
  last_error               text
);

-- The newest update operation per updater; matching joins through it.
CREATE MATERIALIZED VIEW latest_update_operations AS
SELECT DISTINCT ON (updater) id, kind, updater FROM update_operation ORDER BY updater, id DESC;
CREATE UNIQUE INDEX idx_updater_uniq ON latest_update_operations (updater);

CREATE TABLE libvuln_migrations (version integer PRIMARY KEY NOT NULL);
INSERT INTO libvuln_migrations SELECT generate_series(1, 16);
