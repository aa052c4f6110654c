-- Initial load: vuln's own unique constraint and indexes, which fast-path-begin.sql set aside,
-- re-created as soon as vuln holds all its rows (insert-vulns.sql was the last statement to write
-- them), then its statistics; fast-path-end.sql re-creates what the link tables lost, once their
-- rows are in. Same definitions, same names, inside this transaction.
-- Why not with the rest: the second session is still copying the alias files at this point, and
-- an index build leaves a core idle for long stretches (vuln_lookup_idx, a third of it: its
-- leader's final merge); built at the end, nothing else ran beside them. Measured at 9 M rows,
-- from the end of the COPY into vuln to the end of the load, three loads each, alternated: 93.0 s
-- against 96.1 s with the bundle in the page cache, 103.3 s against 105.2 s with it evicted first.
-- On a refresh (nothing set aside) nothing happens here.
DO $$
BEGIN
  IF pg_temp.recreate_set_aside('vuln') > 0 THEN
    DELETE FROM stage_rebuild WHERE tbl = 'vuln'::regclass;
    ANALYZE vuln;
  END IF;
END
$$;
