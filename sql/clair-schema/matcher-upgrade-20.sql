-- Brings the stand-in matcher schema (matcher-base.sql, version 16) to version 20
-- (claircore v1.5.54+ / main): alias tables (17), vuln.not_vulnerable (18), bigint alias
-- columns (19); 20 changes data only.

CREATE TABLE alias_namespace (
  id        integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
  namespace text UNIQUE NOT NULL
);
CREATE TABLE alias (
  id        integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
  namespace integer NOT NULL REFERENCES alias_namespace (id) ON DELETE CASCADE,
  name      text NOT NULL,
  UNIQUE (namespace, name)
);
CREATE TABLE vulnerability_alias (
  vulnerability bigint REFERENCES vuln (id) ON DELETE CASCADE,
  alias         integer NOT NULL REFERENCES alias (id) ON DELETE CASCADE,
  PRIMARY KEY (vulnerability, alias)
);
CREATE TABLE vulnerability_self (
  vulnerability bigint PRIMARY KEY REFERENCES vuln (id) ON DELETE CASCADE,
  self          integer NOT NULL REFERENCES alias (id) ON DELETE CASCADE
);
ALTER TABLE vuln ADD COLUMN not_vulnerable boolean NOT NULL DEFAULT false;

INSERT INTO libvuln_migrations SELECT generate_series(17, 20);

COMMENT ON TABLE alias_namespace IS 'Contains namespaces for aliases. Usually short IDs like "CVE" or "GHSA".';
COMMENT ON TABLE alias IS 'Table for all known aliases of vulnerabilities in the system. All vulnerabilities should have at least one alias.';
COMMENT ON TABLE vulnerability_alias IS 'Pivot table linking vulnerabilities to aliases.';
COMMENT ON TABLE vulnerability_self IS 'Indicates the "self" alias for a vulnerability.';
COMMENT ON COLUMN vuln.not_vulnerable IS 'Invert the meaning of the record: assert that described versions are not vulnerable.';
