-- After a failed load: the rows its second session committed (side-aliases-begin.sql), if that
-- session got so far (a load whose connection was lost leaves them to the next load), and the keys
-- an earlier loader's second session copied (stage_row_key_next). The second session's backend may still be finishing a statement on them: not
-- waited for long.
SET lock_timeout = '10s';
DROP TABLE IF EXISTS clair_bundle.stage_alias_next;
DROP TABLE IF EXISTS clair_bundle.stage_row_key_next;
DROP TABLE IF EXISTS clair_bundle.stage_alias_name_next;
