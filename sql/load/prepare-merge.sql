-- Memory for the big joins and index builds of this transaction only, and statistics for the
-- staged rows so the planner picks hash/merge joins instead of nested loops.
SET LOCAL work_mem = '128MB';
SET LOCAL maintenance_work_mem = '512MB';
ANALYZE stage_vuln;
ANALYZE stage_alias;
ANALYZE stage_enrichment;
