-- The updater of the keys file copied next into stage_row_key (its column default).
SELECT set_config('clair_bundle.copy_updater', :'updater', true);
