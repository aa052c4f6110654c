-- The second session, before side-alias-links.sql and side-self-links.sql: the shift of the copied
-- rows' ids and the base of the numbered names' ids (pipe-aliases-begin.sql), for this session.
SELECT set_config('clair_bundle.link_shift', :'shift', false), set_config('clair_bundle.link_base', :'base', false);
