import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { errorLines, run } from './lib/cli.js';
import { clairPart, cloneDb, dropDb, exactDump, query, withDb } from './lib/db.js';
import { secret, tally } from './lib/tally.js';

/**
 * Least privilege (README "Least privilege"): Clair's tables belong to Clair's own role (here
 * `clair_owner_*`, which also has CREATE on the schema holding them, as the role Clair's
 * migrations ran as does); the loader's role is a member of it and gets a pre-created schema
 * clair_bundle, nothing else: no CREATE on the database, no superuser. One initial load and one
 * refresh run as that role; roles with less fail with exit 4, a message naming what is missing,
 * and nothing written.
 */
const AREA = 'least privilege';
const tag = randomBytes(3).toString('hex');
const owner = `clair_owner_${tag}`;
const roles: string[] = [owner];
const dbs: string[] = [];
let b1: { dir: string };
let b2: { dir: string };

async function asSuperuser(url: string, sql: string): Promise<void> {
  await withDb(url, (c) => c.query(sql));
}

/** A database whose Clair tables (and the MV) belong to the owner role, as in a real deployment. */
async function clairDb(): Promise<{ name: string; url: string }> {
  const db = await cloneDb('tpl_clair20', 'priv');
  dbs.push(db.name);
  await asSuperuser(db.url, `
    DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'm', 'v') LOOP
        EXECUTE format('ALTER %s public.%I OWNER TO ${owner}', CASE r.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, r.relname);
      END LOOP;
    END $$;
    GRANT CREATE ON SCHEMA public TO ${owner};
    REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC;`);
  return db;
}

/** A login role with a password of its own; `grants` run as the superuser in the database. */
async function role(dbUrl: string, name: string, grants: string): Promise<string> {
  const password = secret(`Lp-${randomBytes(9).toString('base64url')}`);
  const full = `${name}_${tag}`;
  if (!roles.includes(full)) {
    roles.push(full);
    await asSuperuser(dbUrl, `CREATE ROLE ${full} LOGIN PASSWORD '${password}'`);
  } else {
    await asSuperuser(dbUrl, `ALTER ROLE ${full} PASSWORD '${password}'`);
  }
  if (grants) await asSuperuser(dbUrl, grants.replaceAll('$ROLE', full).replaceAll('$OWNER', owner));
  const u = new URL(dbUrl);
  u.username = full;
  u.password = password;
  return u.toString();
}

beforeAll(async () => {
  b1 = await makeGeneration({ rows: 3000, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  b2 = await makeGeneration({ rows: 3000, generation: 2, created: '2026-01-02T00:00:00Z', mapping: 'excerpt' });
  const db = await cloneDb('tpl_clair20', 'priv');
  dbs.push(db.name);
  await asSuperuser(db.url, `CREATE ROLE ${owner} NOLOGIN`);
});

afterAll(async () => {
  for (const d of dbs) await dropDb(d);
  const { withAdmin } = await import('./lib/db.js');
  await withAdmin(async (c) => {
    for (const r of roles.reverse()) await c.query(`DROP ROLE IF EXISTS ${r}`).catch(() => undefined);
  });
});

describe('the documented loader role', () => {
  it('member of the owner of Clair\'s tables + a pre-created schema clair_bundle: initial load (fast path), refresh, status', async () => {
    const db = await clairDb();
    const url = await role(db.url, 'loader', 'GRANT $OWNER TO $ROLE; CREATE SCHEMA clair_bundle AUTHORIZATION $ROLE;');
    const [r] = await query<{ create: boolean; superuser: boolean }>(url, `SELECT has_database_privilege(current_database(), 'CREATE') AS create,
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`);
    expect(r).toEqual({ create: false, superuser: false });
    const first = await run(['--verbose', 'load', b1.dir, '--db', url], { label: 'priv-initial' });
    const second = await run(['load', b2.dir, '--db', url], { label: 'priv-refresh' });
    const status = await run(['status', '--db', url], { label: 'priv-status' });
    // The fast path ran (a member of the tables' owner may set indexes aside).
    const fast = !/without the fast path/.test(first.stderr);
    const ok = first.status === 0 && second.status === 0 && /outcome: loaded/.test(second.stdout) && status.status === 0 && fast;
    tally(AREA, 'fault', 'load as the documented least-privileged role (initial + refresh)', ok, `exits ${first.status}, ${second.status}, status ${status.status}; fast path ${fast}`);
    expect(ok, first.stderr + second.stderr).toBe(true);
    const [h] = await query<{ users: string[] }>(url, 'SELECT array_agg(DISTINCT db_user) AS users FROM clair_bundle.load_history');
    expect(h.users).toEqual([`loader_${tag}`]);
  });
});

describe('roles without those grants fail with exit 4, a clear message, nothing written', () => {
  const cases: [string, string, RegExp][] = [
    ['no grants at all', '', /permission denied for table libvuln_migrations/],
    ['SELECT on Clair\'s tables only', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ROLE;',
      /lacks privileges the load needs: INSERT on update_operation; USAGE on sequence update_operation_id_seq; INSERT on vuln;.*membership in role clair_owner_\w+, the owner of latest_update_operations/],
    ['every table grant, but not a member of the owner role', `GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO $ROLE;
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO $ROLE; CREATE SCHEMA IF NOT EXISTS clair_bundle AUTHORIZATION $ROLE;`,
      /lacks privileges the load needs: membership in role clair_owner_\w+, the owner of latest_update_operations \(REFRESH MATERIALIZED VIEW needs it\)$/],
    ['member of the owner role, but no schema clair_bundle and no CREATE on the database', 'GRANT $OWNER TO $ROLE;',
      /lacks privileges the load needs: CREATE on database \w+, or a schema clair_bundle created for this role beforehand/],
    // Beyond the pre-flight check: refused inside the transaction, rolled back, still exit 4.
    ['the documented grants, but EXECUTE on versionrange() revoked (refused mid-transaction)', `GRANT $OWNER TO $ROLE;
      CREATE SCHEMA clair_bundle AUTHORIZATION $ROLE; REVOKE EXECUTE ON FUNCTION versionrange(int[], int[], text) FROM PUBLIC;`,
      /permission denied on .*: sql\/load\/insert-vulns\.sql: permission denied for function versionrange \(the load was rolled back\)/],
  ];
  it.each(cases)('%s', async (name, grants, message) => {
    const db = await clairDb();
    const before = await exactDump(db.url);
    const url = await role(db.url, `weak${cases.findIndex((c) => c[0] === name)}`, grants);
    const r = await run(['load', b1.dir, '--db', url], { label: `priv-${name}` });
    const after = await exactDump(db.url);
    const errs = errorLines(r);
    const same = JSON.stringify(clairPart(after)) === JSON.stringify(clairPart(before));
    const ok = r.status === 4 && errs.length === 1 && /^error\[DATABASE\]: permission denied on /.test(errs[0]) && message.test(errs[0]) && same
      && /hint: see "Least privilege" in the README/.test(r.stderr);
    tally(AREA, 'input', `role with ${name}`, ok, `exit ${r.status}: ${errs[0]}`);
    expect(ok, `exit ${r.status}\n${r.stderr}`).toBe(true);
  });
});
