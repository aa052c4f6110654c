-- After the COPYs of pipe-aliases-begin.sql: foreign-key triggers fire again.
DO $$ BEGIN IF (SELECT links FROM stage_trust) THEN SET LOCAL session_replication_role = origin; END IF; END $$;
