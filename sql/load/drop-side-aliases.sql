-- After a failed load: the alias rows its second session committed (side-aliases-begin.sql), if
-- that session got so far (a load whose connection was lost leaves them to the next load). The
-- second session's backend may still be finishing a statement on them: not waited for long.
SET lock_timeout = '10s';
DROP TABLE IF EXISTS clair_bundle.stage_alias_next;
