INSERT INTO stage_run (via, allow_older, has_aliases, has_not_vulnerable)
VALUES (:'via', :'allow_older', :'has_aliases', :'has_not_vulnerable');
