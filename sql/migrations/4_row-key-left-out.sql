-- A row key without a vuln id stands for a "not vulnerable" row that the load left out, because
-- Clair's schema (< 18) has no vuln.not_vulnerable (sql/load/drop-not-vulnerable.sql): the next
-- refresh on such a schema leaves it out again without staging it (sql/load/plan-keyed.sql).
ALTER TABLE row_key ALTER COLUMN vuln DROP NOT NULL;
