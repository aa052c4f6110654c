-- Which updaters of the bundle changed: the bundle fingerprint differs from the one recorded
-- for the updater's latest update operation (or that operation is not ours).
CREATE TEMP TABLE stage_plan ON COMMIT DROP AS
SELECT
  u->>'name' AS name,
  u->>'kind' AS kind,
  u->>'fingerprint' AS fingerprint,
  (u->>'rows')::bigint AS row_count,
  latest.id AS prev_uo,
  (s.fingerprint IS DISTINCT FROM u->>'fingerprint') AS changed,
  NULL::bigint AS uo
FROM stage_manifest m
CROSS JOIN jsonb_array_elements(m.doc->'updaters') u
LEFT JOIN LATERAL (SELECT max(o.id) AS id FROM update_operation o WHERE o.updater = u->>'name') latest ON true
LEFT JOIN clair_bundle.update_operation_source s ON s.uo = latest.id;

-- One new update operation per changed updater; Clair's fingerprint column gets '' (always
-- acceptable to Clair's own updaters), ours is kept in clair_bundle.update_operation_source.
WITH new_uo AS (
  INSERT INTO update_operation (updater, fingerprint, kind)
  SELECT name, '', kind FROM stage_plan WHERE changed ORDER BY name
  RETURNING id, updater
)
UPDATE stage_plan p SET uo = n.id FROM new_uo n WHERE n.updater = p.name;

CREATE TEMP TABLE stage_count (updater text NOT NULL, what text NOT NULL, n bigint NOT NULL) ON COMMIT DROP;
