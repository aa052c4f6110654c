-- Initial load, node loader, after the second session copied the alias files (side-aliases-end.sql)
-- and before this transaction takes them (take-side-aliases.sql): when link-aliases.sql would link
-- the numbered rows of the updater copied straight into vuln as two numbers each (record number +
-- shift, name number + base), the loader sends those links, which node collected while that session
-- copied the alias file (src/load/alias-links.ts; the rows they stand for that session did not copy:
-- src/load/name-ordinals.ts, `keep`), into COPYs of the link tables instead: COPY writes rows
-- in bulk, where INSERT … SELECT writes them one by one (measured on 18 M links: 2.8 s against
-- 11.3 s), and node has them sorted as the link tables' primary keys are.
-- Only in the case link-aliases.sql calls "apart" with numbered names, none stored yet, and no
-- numbered row set aside there (no record left out, none given up to a staged updater). This step
-- then does what link-aliases.sql would for those names: their namespaces, a block of alias's
-- sequence and the names with ids base + number; it returns the shift and the base (none: nothing
-- to pipe; the loader copies those rows then, linked-aliases-copied.sql, and link-aliases.sql does
-- it all). stage_alias_piped tells link-aliases.sql.
DO $$
DECLARE
  id_shift bigint;
  base bigint;
BEGIN
  SELECT t.shift INTO id_shift FROM stage_direct_shift t;
  IF NOT FOUND OR EXISTS (SELECT 1 FROM stage_later) OR EXISTS (SELECT 1 FROM stage_left_out_kept)
      OR EXISTS (SELECT 1 FROM stage_left_out) OR EXISTS (SELECT 1 FROM stage_direct_lost) THEN
    RETURN;
  END IF;
  -- (create-staging.sql)
  base := pg_temp.reserve_alias_names('clair_bundle.stage_alias_name_next');
  IF base IS NULL THEN
    RETURN;
  END IF;
  INSERT INTO stage_alias_piped VALUES (id_shift, base);
  -- Trusted links (create-staging.sql): no per-row foreign-key triggers for the COPYs.
  IF (SELECT links FROM stage_trust) THEN
    SET LOCAL session_replication_role = replica;
  END IF;
END
$$;
SELECT shift, base FROM stage_alias_piped;
