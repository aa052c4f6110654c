-- One stored Red Hat mapping document, as text, with its validators.
SELECT document::text AS body, sha256, upstream_date, loaded_at
FROM clair_bundle.mapping_document
WHERE name = :'name';
