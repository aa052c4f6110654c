-- Everything the load needs (README "Least privilege"), checked before anything is written, so a
-- role that lacks a grant gets one message naming all of them instead of a failure half-way
-- through the load. SQLSTATE 42501 = exit 4.
DO $$
DECLARE
  missing text[] := '{}';
  t text;
  p text;
  seq regclass;
  rel oid;
  mv regclass := to_regclass('latest_update_operations');
  ours regnamespace := to_regnamespace('clair_bundle');
BEGIN
  IF NOT has_database_privilege(current_database(), 'TEMPORARY') THEN
    missing := missing || format('TEMPORARY on database %I (staging tables)', current_database());
  END IF;
  FOREACH t IN ARRAY ARRAY['update_operation', 'vuln', 'uo_vuln', 'enrichment', 'uo_enrich',
    'alias_namespace', 'alias', 'vulnerability_alias', 'vulnerability_self'] LOOP
    CONTINUE WHEN to_regclass(t) IS NULL;
    FOREACH p IN ARRAY ARRAY['SELECT', 'INSERT'] LOOP
      IF NOT has_table_privilege(to_regclass(t), p) THEN missing := missing || format('%s on %s', p, to_regclass(t)); END IF;
    END LOOP;
    FOR seq IN SELECT d.objid::regclass FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(t) AND d.deptype IN ('a', 'i') LOOP
      IF NOT has_sequence_privilege(seq, 'USAGE') THEN missing := missing || format('USAGE on sequence %s', seq); END IF;
    END LOOP;
  END LOOP;
  -- REFRESH MATERIALIZED VIEW: the view's owner (or a member of its role); PostgreSQL 17+: MAINTAIN.
  IF current_setting('server_version_num')::int >= 170000 THEN
    IF NOT has_table_privilege(mv, 'MAINTAIN') THEN
      missing := missing || format('MAINTAIN on %s (or membership in its owner %I)', mv, (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = mv));
    END IF;
  ELSIF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = mv), 'USAGE') THEN
    missing := missing || format('membership in role %I, the owner of %s (REFRESH MATERIALIZED VIEW needs it)', (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = mv), mv);
  END IF;
  -- Our own schema: created by the first load (CREATE on the database) or by the DBA beforehand.
  IF ours IS NULL THEN
    IF NOT has_database_privilege(current_database(), 'CREATE') THEN
      missing := missing || format('CREATE on database %I, or a schema clair_bundle created for this role beforehand', current_database());
    END IF;
  ELSIF NOT pg_has_role((SELECT nspowner FROM pg_namespace WHERE oid = ours), 'USAGE') THEN
    IF NOT has_schema_privilege(ours, 'USAGE') THEN missing := missing || 'USAGE on schema clair_bundle'::text; END IF;
    FOREACH t IN ARRAY ARRAY['load_history:SELECT,INSERT', 'update_operation_source:SELECT,INSERT,DELETE',
      'mapping_document:SELECT,INSERT,UPDATE', 'migrations:SELECT', 'row_key_source:SELECT,INSERT,UPDATE,DELETE',
      'row_key:SELECT,INSERT,DELETE'] LOOP
      -- By oid: to_regclass would fail outright without USAGE on the schema.
      SELECT oid INTO rel FROM pg_class WHERE relnamespace = ours AND relname = split_part(t, ':', 1);
      CONTINUE WHEN rel IS NULL;
      FOREACH p IN ARRAY string_to_array(split_part(t, ':', 2), ',') LOOP
        IF NOT has_table_privilege(rel, p) THEN missing := missing || format('%s on clair_bundle.%s', p, split_part(t, ':', 1)); END IF;
      END LOOP;
    END LOOP;
    SELECT oid INTO rel FROM pg_class WHERE relnamespace = ours AND relname = 'load_history_id_seq';
    IF rel IS NOT NULL AND NOT has_sequence_privilege(rel, 'USAGE') THEN
      missing := missing || 'USAGE on sequence clair_bundle.load_history_id_seq'::text;
    END IF;
  END IF;
  IF cardinality(missing) > 0 THEN
    RAISE EXCEPTION 'role % lacks privileges the load needs: %', current_user, array_to_string(missing, '; ')
      USING ERRCODE = '42501', HINT = 'see "Least privilege" in the README for the grants the loader needs';
  END IF;
END
$$;
