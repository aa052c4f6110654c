-- The updater of the keys file copied next into stage_row_key (its column default), noted in
-- stage_keys_file.
WITH noted AS (INSERT INTO stage_keys_file VALUES (:'updater') ON CONFLICT DO NOTHING)
SELECT set_config('clair_bundle.copy_updater', :'updater', true);
