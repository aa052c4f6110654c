-- Trusted links (create-staging.sql): from here to COMMIT nobody deletes the rows the links will
-- reference (SHARE blocks other writers, not Clair's readers). Runs before this load reads any id
-- it links: before plan-keyed.sql, or else first among the merge steps.
DO $$
BEGIN
  IF (SELECT links FROM stage_trust) THEN
    LOCK TABLE vuln, enrichment IN SHARE MODE;
    IF to_regclass('alias') IS NOT NULL THEN
      LOCK TABLE alias IN SHARE MODE;
    END IF;
  END IF;
END
$$;
