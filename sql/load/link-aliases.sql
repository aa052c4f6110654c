-- Aliases and "self" aliases (schema >= 17). Links are only ever added; the first self wins.
DELETE FROM stage_alias a WHERE NOT EXISTS (
  SELECT 1 FROM stage_vuln s JOIN stage_plan p ON p.name = s.updater AND p.changed WHERE s.hash = a.hash
);
INSERT INTO alias_namespace (namespace)
SELECT DISTINCT namespace FROM stage_alias ORDER BY 1
ON CONFLICT (namespace) DO NOTHING;
INSERT INTO alias (namespace, name)
SELECT DISTINCT n.id, a.name FROM stage_alias a JOIN alias_namespace n ON n.namespace = a.namespace ORDER BY 1, 2
ON CONFLICT (namespace, name) DO NOTHING;
INSERT INTO vulnerability_alias (vulnerability, alias)
SELECT DISTINCT v.id, al.id
FROM stage_alias a
JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = a.hash
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.kind = 'alias'
ON CONFLICT DO NOTHING;
INSERT INTO vulnerability_self (vulnerability, self)
SELECT DISTINCT ON (v.id) v.id, al.id
FROM stage_alias a
JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = a.hash
JOIN alias_namespace n ON n.namespace = a.namespace
JOIN alias al ON al.namespace = n.id AND al.name = a.name
WHERE a.kind = 'self'
ORDER BY v.id, al.id
ON CONFLICT DO NOTHING;
