-- The second session: the updater of the keys file it copies next (side-keys-begin.sql), for the
-- rest of the session (it copies one).
SELECT set_config('clair_bundle.copy_updater', :'updater', false);
