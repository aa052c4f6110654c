-- The keys file of the updater copied straight into vuln, copied into stage_row_key when
-- direct-keys-begin.sql returned nothing: statistics for record-keys.sql's joins (plan-keyed.sql
-- analyzed the other keys files before).
ANALYZE stage_row_key;
