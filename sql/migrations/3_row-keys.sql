-- Row keys of the last load of each vulnerability updater (bundle keys/*.csv), so the next refresh
-- of that updater reads only the rows whose digest changed (sql/load/plan-keyed.sql). A map is
-- used only while `uo` is still the updater's latest update operation, and every id it gives is
-- checked against that update operation's links: a load by any other means (Clair's own updater,
-- psql -f load.sql, clairctl) makes it unused until a load by this tool writes it again.
CREATE TABLE IF NOT EXISTS row_key_source (
  updater text PRIMARY KEY,
  uo      bigint NOT NULL
);
-- digest: md5 of the row's bytes in the vulnerability CSV and of its alias rows; vuln: its vuln.id.
-- No index: a refresh reads an updater's keys whole, in one hash join.
CREATE TABLE IF NOT EXISTS row_key (
  updater text NOT NULL,
  digest  bytea NOT NULL,
  vuln    bigint NOT NULL
);
