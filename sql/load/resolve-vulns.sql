-- The vuln id of every staged row of a changed updater that already exists (NULL: new).
CREATE TEMP TABLE stage_ids ON COMMIT DROP AS
SELECT s.hash, s.updater, v.id
FROM stage_vuln s
JOIN stage_plan p ON p.name = s.updater AND p.changed
LEFT JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = s.hash;
CREATE TEMP TABLE stage_new (id bigint NOT NULL, hash bytea NOT NULL, updater text NOT NULL) ON COMMIT DROP;
