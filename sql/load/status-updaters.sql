-- Per updater: the latest update operation, whether clair-bundle wrote it (and with which bundle
-- fingerprint), its age and how many rows it links.
SELECT o.updater, o.kind, o.id AS uo, o.ref::text AS ref, o.date,
  s.fingerprint AS bundle_fingerprint, s.bundle_digest,
  CASE WHEN s.uo IS NULL THEN 'clair' ELSE 'clair-bundle' END AS written_by,
  CASE WHEN o.kind = 'enrichment'
    THEN (SELECT count(*) FROM uo_enrich e WHERE e.uo = o.id)
    ELSE (SELECT count(*) FROM uo_vuln v WHERE v.uo = o.id) END AS rows
FROM latest_update_operations l
JOIN update_operation o ON o.id = l.id
LEFT JOIN clair_bundle.update_operation_source s ON s.uo = o.id
ORDER BY o.updater;
