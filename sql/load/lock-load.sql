-- The global load lock (session level): one clair-bundle load at a time per database.
-- Key = FNV-1a 64 of 'clair-bundle/load'. Waits are bounded by lock_timeout.
SELECT pg_advisory_lock(-7620314175157309118);
