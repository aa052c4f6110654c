-- Red Hat mapping documents: replace the stored copy when the bundle's sha256 differs.
WITH replaced AS (
  INSERT INTO clair_bundle.mapping_document (name, document, sha256, upstream_date, bundle_digest)
  SELECT mp->>'name', d.doc, mp->>'sha256', coalesce(mp->>'upstream_date', ''), m.doc->>'digest'
  FROM stage_manifest m
  CROSS JOIN jsonb_array_elements(coalesce(m.doc->'mappings', '[]')) mp
  JOIN (SELECT name, string_agg(line, E'\n' ORDER BY n)::jsonb AS doc FROM stage_mapping_line GROUP BY name) d
    ON d.name = mp->>'name'
  ON CONFLICT (name) DO UPDATE
  SET document = excluded.document, sha256 = excluded.sha256, upstream_date = excluded.upstream_date,
      bundle_digest = excluded.bundle_digest, loaded_at = now()
  WHERE clair_bundle.mapping_document.sha256 IS DISTINCT FROM excluded.sha256
  RETURNING name
)
INSERT INTO stage_count SELECT name, 'replaced', count(*) FROM replaced GROUP BY name;
