-- The updater of the "not vulnerable" records copied next into stage_left_out (its column default):
-- those the loader filtered out of a file it copied straight into vuln on a schema < 18.
SELECT set_config('clair_bundle.copy_updater', :'updater', true);
