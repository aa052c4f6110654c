-- The updater of the keys file copied next into stage_row_key (its column default), whose lines are
-- numbered from 1 (stage_row_key.ord), noted in stage_keys_file.
WITH noted AS (INSERT INTO stage_keys_file VALUES (:'updater') ON CONFLICT DO NOTHING)
SELECT set_config('clair_bundle.copy_updater', :'updater', true), setval(pg_get_serial_sequence('stage_row_key', 'ord'), 1, false);
