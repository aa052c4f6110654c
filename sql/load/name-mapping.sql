UPDATE stage_mapping_line SET name = :'mapping_name' WHERE name IS NULL;
