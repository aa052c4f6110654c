-- The second session (pipe-aliases-begin.sql): the numbered "self" alias rows, one per
-- vulnerability, the one with the smallest alias id, as link-aliases.sql would insert them, sent
-- into the load's COPY of vulnerability_self.
COPY (
  SELECT DISTINCT ON (a.ord) p.shift + a.ord, p.base + a.name_ord
  FROM clair_bundle.stage_alias_next a
  CROSS JOIN (SELECT current_setting('clair_bundle.link_shift')::bigint AS shift, current_setting('clair_bundle.link_base')::bigint AS base) p
  WHERE a.ord IS NOT NULL AND a.kind = 'self'
  ORDER BY a.ord, a.name_ord
) TO STDOUT
