-- Initial load, node loader, when the links of the alias rows the second session numbered could
-- not be piped (pipe-aliases-begin.sql): the loader copied those rows, which that session left out,
-- into its table (before take-side-aliases.sql makes it stage_alias). Their names, when node listed
-- none (it gave up numbering them: side-aliases-end.sql collected only the names of the rows that
-- session copied), and the table's statistics for link-aliases.sql's joins, which now count them.
INSERT INTO clair_bundle.stage_alias_name_next (namespace, name)
SELECT DISTINCT a.namespace, a.name FROM clair_bundle.stage_alias_next a
WHERE a.name_ord IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clair_bundle.stage_alias_name_next n WHERE n.name_ord IS NOT NULL);
ANALYZE clair_bundle.stage_alias_next;
ANALYZE clair_bundle.stage_alias_name_next;
