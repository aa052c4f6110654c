-- Node loader, after the COPY straight into vuln in COPY's binary format: node checked the copied
-- rows as it converted them (src/load/copied-row-checks.ts), as direct-end.sql would, which then
-- only reads their ids and keys; long_ids: the ids of those whose vuln_lookup_idx columns take more
-- than 2000 bytes, for prepare-merge.sql to try against that index.
INSERT INTO stage_direct_checked (long_ids) VALUES (:'long_ids');
