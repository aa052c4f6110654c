-- The Red Hat mapping documents, queryable per repository id and per container name.
CREATE OR REPLACE VIEW repository_cpe AS
SELECT r.key AS repository, ARRAY(SELECT jsonb_array_elements_text(r.value->'cpes')) AS cpes
FROM mapping_document d, jsonb_each(d.document->'data') r
WHERE d.name = 'repository-to-cpe.json';

CREATE OR REPLACE VIEW container_repositories AS
SELECT c.key AS container_name, ARRAY(SELECT jsonb_array_elements_text(c.value)) AS repositories
FROM mapping_document d, jsonb_each(d.document->'data') c
WHERE d.name = 'container-name-repos-map.json';
