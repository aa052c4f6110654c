import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGeneration } from './lib/bundles.js';
import { errorLines, run, type Run } from './lib/cli.js';
import { adminUrl, cloneDb, dropDb, withAdmin, withDb } from './lib/db.js';
import { scanForSecrets } from './lib/report.js';
import { keepOutput, secret, tally } from './lib/tally.js';

/**
 * Credentials: a password given through a postgres:// URL, a libpq keyword string, PGPASSWORD,
 * ~/.pgpass (HOME pointed at a temporary directory), a mounted Clair config (--clair-config and
 * CLAIR_CONF) or CLAIR_BUNDLE_DB never shows up in stdout, stderr (also with --verbose stacks),
 * `status` (text and JSON), the history table or the termination message
 * (CLAIR_BUNDLE_TERMINATION_LOG): through a successful load, an unchanged reload, a load that fails
 * and is rolled back, a wrong password, an unreachable server, a mistyped option and a Clair
 * config that is not valid YAML. Every output of the whole suite is scanned again at the end.
 */
const AREA = 'credentials';
const tag = randomBytes(3).toString('hex');
const port = () => new URL(adminUrl()).port;
const roles: string[] = [];
const dbs: string[] = [];
let b1: { dir: string };
let b2: { dir: string };
let work: string;
const outputs: { name: string; text: string }[] = [];
const secrets: string[] = [];

function keep(label: string, text: string): void {
  outputs.push({ name: keepOutput(label, text), text });
}

beforeAll(async () => {
  // The suite's superuser password is in every --db the other test files pass: scanned for too.
  secrets.push(secret(decodeURIComponent(new URL(adminUrl()).password)));
  b1 = await makeGeneration({ rows: 2000, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  b2 = await makeGeneration({ rows: 2000, generation: 2, created: '2026-01-02T00:00:00Z', mapping: 'excerpt' });
  work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-creds-'));
});

afterAll(async () => {
  for (const d of dbs) await dropDb(d);
  await withAdmin(async (c) => {
    for (const r of roles) await c.query(`DROP ROLE IF EXISTS ${r}`).catch(() => undefined);
  });
});

interface Source {
  name: string;
  /** CLI arguments and environment that select the database with this password. */
  select: (db: string, user: string, password: string, home: string) => Promise<{ args: string[]; env: Record<string, string> }>;
}

const clairConfig = async (db: string, user: string, password: string, file: string) => {
  // As Clair's config writes it: a libpq keyword string, the password quoted.
  await writeFile(file, `matcher:\n  connstring: host=127.0.0.1 port=${port()} dbname=${db} user=${user} password='${password.replace(/[\\']/g, '\\$&')}' sslmode=disable\n  migrations: false\n`);
};

const sources: Source[] = [
  { name: 'postgres:// URL', select: async (db, user, pw) => ({ args: ['--db', `postgres://${user}:${encodeURIComponent(pw)}@127.0.0.1:${port()}/${db}`], env: {} }) },
  { name: 'libpq keyword string', select: async (db, user, pw) => ({ args: ['--db', `host=127.0.0.1 port=${port()} dbname=${db} user=${user} password='${pw.replace(/[\\']/g, '\\$&')}'`], env: {} }) },
  { name: 'CLAIR_BUNDLE_DB', select: async (db, user, pw) => ({ args: [], env: { CLAIR_BUNDLE_DB: `postgres://${user}:${encodeURIComponent(pw)}@127.0.0.1:${port()}/${db}` } }) },
  { name: 'PGPASSWORD', select: async (db, user, pw) => ({ args: [], env: { PGHOST: '127.0.0.1', PGPORT: port(), PGDATABASE: db, PGUSER: user, PGPASSWORD: pw } }) },
  {
    name: '~/.pgpass', select: async (db, user, pw, home) => {
      await writeFile(path.join(home, '.pgpass'), `127.0.0.1:${port()}:${db}:${user}:${pw.replace(/[:\\]/g, '\\$&')}\n`);
      await chmod(path.join(home, '.pgpass'), 0o600);
      return { args: [], env: { HOME: home, PGHOST: '127.0.0.1', PGPORT: port(), PGDATABASE: db, PGUSER: user } };
    },
  },
  {
    name: 'mounted Clair config (--clair-config)', select: async (db, user, pw, home) => {
      await clairConfig(db, user, pw, path.join(home, 'config.yaml'));
      return { args: ['--clair-config', path.join(home, 'config.yaml')], env: {} };
    },
  },
  {
    name: 'mounted Clair config (CLAIR_CONF)', select: async (db, user, pw, home) => {
      await clairConfig(db, user, pw, path.join(home, 'config.yaml'));
      return { args: [], env: { CLAIR_CONF: path.join(home, 'config.yaml') } };
    },
  },
];

describe.each(sources)('password from $name', (src) => {
  it('appears in no output, status, history row or termination message', async () => {
    const i = sources.indexOf(src);
    const user = `cred${i}_${tag}`;
    // Quotes, spaces, a colon, an @ and a backslash: every quoting path gets exercised.
    const password = secret(`Cb ${i}:pw@'x\\${randomBytes(6).toString('hex')}`);
    const wrong = secret(`Wrong-${i}-${randomBytes(6).toString('hex')}`);
    secrets.push(password, wrong);
    roles.push(user);
    await withAdmin((c) => c.query(`CREATE ROLE ${user} LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`));
    const db = await cloneDb('tpl_clair20', 'cred');
    dbs.push(db.name);
    const home = await mkdtemp(path.join(work, 'home-'));
    const termination = path.join(home, 'termination-log');
    const runs: { label: string; r: Run }[] = [];
    const go = async (label: string, args: string[], pw = password, extraEnv: Record<string, string> = {}) => {
      const sel = await src.select(db.name, user, pw, home);
      await writeFile(termination, '');
      const r = await run(['--verbose', ...args.slice(0, 1), ...sel.args, ...args.slice(1)], {
        label: `cred-${i}-${label}`, env: { HOME: home, ...sel.env, ...extraEnv, CLAIR_BUNDLE_TERMINATION_LOG: termination },
      });
      keep(`cred-${i}-${label}-termination`, await readFile(termination, 'utf8'));
      outputs.push({ name: `${label} stdout`, text: r.stdout }, { name: `${label} stderr`, text: r.stderr });
      runs.push({ label, r });
      return r;
    };

    expect((await go('load', ['load', b1.dir])).status).toBe(0);
    expect((await go('reload', ['load', b1.dir])).stdout).toMatch(/outcome: unchanged/);
    // A load that fails and is rolled back (statement timeout behind a lock held elsewhere): a
    // failed history row with the error text.
    const holder = new pg.Client(db.url);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE vuln IN SHARE MODE');
    const failed = await go('failed-load', ['load', b2.dir, '--statement-timeout', '1s']);
    await holder.end();
    expect(failed.status).toBe(5);
    await go('status', ['status']);
    await go('status-json', ['status', '--json']);
    const wrongPw = await go('wrong-password', ['load', b1.dir], wrong);
    const dump = await withDb(db.url, async (c) => (await c.query('SELECT * FROM clair_bundle.load_history ORDER BY id')).rows);
    keep(`cred-${i}-history`, JSON.stringify(dump, null, 1));
    outputs.push({ name: 'history', text: JSON.stringify(dump) });

    const leaks = scanForSecrets(outputs.slice(-40), secrets);
    const wrongOk = wrongPw.status === 4 && errorLines(wrongPw).length === 1 && /password authentication failed/.test(wrongPw.stderr);
    tally(AREA, 'input', `wrong password via ${src.name}`, wrongOk && leaks.length === 0, `exit ${wrongPw.status}`);
    expect(leaks).toEqual([]);
    expect(wrongOk, wrongPw.stderr).toBe(true);
    expect(dump.map((h) => h.outcome)).toEqual(['loaded', 'unchanged', 'failed']);
  });
});

describe('passwords in other failures', () => {
  const pw = `Up-${randomBytes(8).toString('hex')}`;
  it.each([
    ['unreachable server, URL', ['load', '{b1}', '--db', `postgres://u:${pw}@127.0.0.1:1/x?connect_timeout=3`], 4, /cannot reach database u@127\.0\.0\.1:1\/x/],
    ['unreachable server, keyword string', ['load', '{b1}', '--db', `host=127.0.0.1 port=1 dbname=x user=u password=${pw}`], 4, /cannot reach database/],
    ['mistyped option carrying a URL', ['load', '{b1}', `--dbx=postgres://u:${pw}@127.0.0.1:1/x`], 2, /unknown option '--dbx=postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x'/],
    ['unsupported connection parameter', ['load', '{b1}', '--db', `host=127.0.0.1 password=${pw} bogus=1`], 2, /unsupported connection parameter "bogus"/],
    ['malformed URL', ['load', '{b1}', '--db', `postgres://u:${pw}@[::1`], 2, /malformed connection URL/],
    ['Clair config that is not valid YAML', ['load', '{b1}', '--clair-config', '{badyaml}'], 2, /cannot read Clair config .*: Nested mappings are not allowed in compact mappings at line 2, column \d+$/],
    ['check-config printing the corrected config', ['check-config', '{onlineyaml}'], 2, /need changing for offline use/],
  ] as const)('%s', async (name, args, exit, message) => {
    secrets.push(secret(pw));
    const badyaml = path.join(work, 'bad.yaml');
    await writeFile(badyaml, `matcher:\n  connstring: host=127.0.0.1 port=1 password=${pw} user=u: x\n  disable_updaters: true\n`);
    const onlineyaml = path.join(work, 'online.yaml');
    await writeFile(onlineyaml, `matcher:\n  connstring: host=127.0.0.1 port=1 dbname=matcher user=clair password=${pw}\n  disable_updaters: false\nindexer:\n  connstring: postgres://clair:${pw}@127.0.0.1:1/indexer\n`);
    const termination = path.join(work, `termination-${name.replace(/\W/g, '')}`);
    await writeFile(termination, '');
    const r = await run(['--verbose', ...args.map((a) => a.replace('{b1}', b1.dir).replace('{badyaml}', badyaml).replace('{onlineyaml}', onlineyaml))], {
      label: `cred-${name}`, env: { CLAIR_BUNDLE_TERMINATION_LOG: termination },
    });
    const term = await readFile(termination, 'utf8');
    keep(`cred-${name}-termination`, term);
    const leaks = scanForSecrets([{ name: 'stdout', text: r.stdout }, { name: 'stderr', text: r.stderr }, { name: 'termination', text: term }], [pw]);
    const ok = r.status === exit && (message.test(errorLines(r)[0] ?? '') || message.test(r.stdout + r.stderr)) && leaks.length === 0;
    tally(AREA, 'input', name, ok, `exit ${r.status}: ${errorLines(r)[0] ?? r.stderr.split('\n')[0]}`);
    expect(leaks).toEqual([]);
    expect(ok, r.stdout + r.stderr).toBe(true);
  });
});
