-- The second session (pipe-aliases-begin.sql): the numbered alias rows it copied, as the links
-- link-aliases.sql would insert (vulnerability: shift + record number; alias: base + name number),
-- sent into the load's COPY of vulnerability_alias.
COPY (
  SELECT p.shift + a.ord, p.base + a.name_ord
  FROM clair_bundle.stage_alias_next a
  CROSS JOIN (SELECT current_setting('clair_bundle.link_shift')::bigint AS shift, current_setting('clair_bundle.link_base')::bigint AS base) p
  WHERE a.ord IS NOT NULL AND a.kind <> 'self'
) TO STDOUT
