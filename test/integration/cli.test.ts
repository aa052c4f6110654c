import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { adminUrl, createClairDb, createEmptyDb, dumpClairTables, logicalDump, query } from '../helpers/db.js';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { EXAMPLE_A, EXAMPLE_B, EXAMPLE_ENRICHMENT, makeBundle, notVulnerable, variations, type UpdaterInput } from '../helpers/records.js';

const BASE: UpdaterInput[] = [
  { name: 'debian/updater', records: [EXAMPLE_A, ...variations(EXAMPLE_A, 30), notVulnerable(EXAMPLE_A)] },
  { name: 'osv/npm', records: [EXAMPLE_B, ...variations(EXAMPLE_B, 5)] },
  { name: 'clair.cvss', kind: 'enrichment', records: [EXAMPLE_ENRICHMENT] },
];

function passwordOf(url: string): string {
  return decodeURIComponent(new URL(url).password);
}

describe('clair-bundle load (CLI)', () => {
  it('loads, then reports unchanged, and status shows it', async () => {
    const url = await createClairDb(20);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const first = runCli(['load', dir, '--db', url]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/outcome: loaded/);
    const second = runCli(['load', dir], { CLAIR_BUNDLE_DB: url });
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/outcome: unchanged/);
    const status = runCli(['status', '--json', '--db', url]);
    expect(status.status).toBe(0);
    const st = JSON.parse(status.stdout);
    expect(st.history.map((h: { outcome: string }) => h.outcome)).toEqual(['unchanged', 'loaded']);
    expect(st.updaters.map((u: { updater: string; rows: string }) => [u.updater, Number(u.rows)])).toEqual([
      ['clair.cvss', 1], ['debian/updater', 32], ['osv/npm', 6],
    ]);
    for (const out of [first, second, status]) expect(out.stdout + out.stderr).not.toContain(passwordOf(url));
  });

  it('reads the connection from a Clair config file (libpq keyword string)', async () => {
    const url = new URL(await createClairDb(16));
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const conf = `${dir}-clair.yaml`;
    const kw = `host=${url.hostname} port=${url.port} dbname=${url.pathname.slice(1)} user=${url.username} password=${decodeURIComponent(url.password)} sslmode=disable`;
    await import('node:fs/promises').then((fs) => fs.writeFile(conf, `matcher:\n  connstring: ${kw}\n  migrations: false\n`));
    const r = runCli(['load', dir, '--clair-config', conf]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/left out/);
    const viaEnv = runCli(['load', dir], { CLAIR_CONF: conf });
    expect(viaEnv.stdout).toMatch(/outcome: unchanged/);
  });
});

describe('database problems exit 4 with one line and no password', () => {
  it.each([
    ['a wrong password', async () => { const u = new URL(await createClairDb(20)); u.password = 'not-the-password-42'; return u.toString(); }, /cannot log in .*password authentication failed/, 'not-the-password-42'],
    ['an unreachable host', async () => 'postgres://postgres:secret-pw-77@127.0.0.1:1/x?connect_timeout=3', /cannot reach database postgres@127\.0\.0\.1:1\/x/, 'secret-pw-77'],
    ['no libvuln_migrations', async () => createEmptyDb(), /not a Clair matcher database: table libvuln_migrations not found/, ''],
    ['an unsupported schema version', async () => {
      const url = await createClairDb(16);
      await query(url, 'DELETE FROM libvuln_migrations WHERE version > 12');
      return url;
    }, /unsupported Clair matcher schema version 12 \(supported: 16 to 20\)/, ''],
  ])('%s', async (_name, makeUrl, message, secret) => {
    const url = await makeUrl();
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const r = runCli(['load', dir, '--db', url]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('  hint:')).filter((l) => l.startsWith('error'))).toHaveLength(1);
    for (const s of [secret, passwordOf(url)].filter(Boolean)) expect(r.stdout + r.stderr).not.toContain(s);
  });
});

describe('concurrency', () => {
  it('--no-wait exits 6 while another load holds the lock', async () => {
    const url = await createClairDb(20);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const holder = new pg.Client(url);
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(-7620314175157309118)');
    try {
      const r = runCli(['load', dir, '--db', url, '--no-wait']);
      expect(r.status).toBe(6);
      expect(r.stderr).toMatch(/another load holds the lock/);
    } finally {
      await holder.end();
    }
  });

  it('two loaders at once: exactly one loads, the other then finds it unchanged', async () => {
    const url = await createClairDb(20);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const [a, b] = [runCliAsync(['load', dir, '--db', url]), runCliAsync(['load', dir, '--db', url])];
    const results = await Promise.all([a.done, b.done]);
    expect(results.map((r) => r.status)).toEqual([0, 0]);
    const outcomes = results.map((r) => /outcome: (\w+)/.exec(r.stdout)?.[1]).sort();
    expect(outcomes).toEqual(['loaded', 'unchanged']);
    const [uo] = await query(url, 'SELECT count(*)::int AS n FROM update_operation');
    expect(uo.n).toBe(3);
  });
});

describe('SIGKILL of the loader', () => {
  async function killWhen(url: string, dir: string, pattern: RegExp): Promise<void> {
    const { child, done } = runCliAsync(['load', dir, '--db', url]);
    const admin = new pg.Client(adminUrl());
    await admin.connect();
    try {
      const db = new URL(url).pathname.slice(1);
      for (let i = 0; i < 2000; i++) {
        const rows = (await admin.query("SELECT query FROM pg_stat_activity WHERE datname = $1 AND application_name = 'clair-bundle' AND state = 'active'", [db])).rows;
        if (rows.some((r) => pattern.test(r.query))) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGKILL');
      await done;
      // Wait until the server has noticed and rolled back.
      for (let i = 0; i < 600; i++) {
        const n = (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'clair-bundle'", [db])).rows[0].n;
        if (n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await admin.end();
    }
  }

  it.each([
    ['during COPY', /^COPY stage_vuln/],
    ['during the merge', /INSERT INTO (vuln|uo_vuln)/],
  ])('%s leaves Clair\'s tables as before and the next run loads', async (_when, pattern) => {
    const url = await createClairDb(20);
    const small = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    expect(runCli(['load', small.dir, '--db', url]).status).toBe(0);
    const before = await dumpClairTables(url);
    const big = await makeBundle([{ name: 'debian/updater', records: variations(EXAMPLE_A, 150_000, 'k') }], '2026-01-02T00:00:00Z');
    await killWhen(url, big.dir, pattern);
    expect(await dumpClairTables(url)).toBe(before);
    const again = runCli(['load', big.dir, '--db', url]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/outcome: loaded/);
  });
});

describe('psql -f load.sql', () => {
  it('leaves the same Clair tables as clair-bundle load (ignoring ids, refs and times)', async () => {
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    for (const schema of [16, 20] as const) {
      const [viaTool, viaPsql] = [await createClairDb(schema), await createClairDb(schema)];
      expect(runCli(['load', dir, '--db', viaTool]).status).toBe(0);
      const psql = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'load.sql', viaPsql], { cwd: dir, encoding: 'utf8' });
      expect(psql.status, psql.stderr).toBe(0);
      expect(await logicalDump(viaPsql)).toBe(await logicalDump(viaTool));
      const hist = await query(viaPsql, 'SELECT outcome, via, updaters FROM clair_bundle.load_history');
      const histTool = await query(viaTool, 'SELECT outcome, via, updaters FROM clair_bundle.load_history');
      expect(hist.map((h) => ({ ...h, via: undefined, updaters: h.updaters.map((u: { uo: unknown }) => ({ ...u, uo: 0 })) })))
        .toEqual(histTool.map((h) => ({ ...h, via: undefined, updaters: h.updaters.map((u: { uo: unknown }) => ({ ...u, uo: 0 })) })));
      expect(hist[0].via).toBe('psql');
      // Re-running the script is a no-op, and then the tool agrees the bundle is loaded.
      const again = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'load.sql', viaPsql], { cwd: dir, encoding: 'utf8' });
      expect(again.stdout).toMatch(/already loaded/);
      expect(runCli(['load', dir, '--db', viaPsql]).stdout).toMatch(/outcome: unchanged/);
    }
  });
});

describe('check-config (CLI)', () => {
  it('exits 2 with the fixes for an online config, 0 for an offline one', () => {
    const bad = runCli(['check-config', 'test/unit/fixtures/clair-config/quay-operator.yaml']);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toMatch(/problem: matcher.disable_updaters/);
    expect(bad.stdout).toMatch(/Corrected config:/);
    const good = runCli(['check-config', 'test/unit/fixtures/clair-config/offline.yaml']);
    expect(good.status, good.stderr).toBe(0);
  });
});

describe('signals and signatures', () => {
  it('SIGTERM during the merge rolls back, exits 5 and records the failure', async () => {
    const url = await createClairDb(20);
    const small = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    expect(runCli(['load', small.dir, '--db', url]).status).toBe(0);
    const before = await dumpClairTables(url);
    const big = await makeBundle([{ name: 'debian/updater', records: variations(EXAMPLE_A, 150_000, 't') }], '2026-01-02T00:00:00Z');
    const { child, done } = runCliAsync(['load', big.dir, '--db', url]);
    const admin = new pg.Client(adminUrl());
    await admin.connect();
    try {
      const db = new URL(url).pathname.slice(1);
      for (let i = 0; i < 4000; i++) {
        const rows = (await admin.query("SELECT query FROM pg_stat_activity WHERE datname = $1 AND application_name = 'clair-bundle' AND state = 'active'", [db])).rows;
        if (rows.some((r) => /INSERT INTO (vuln|uo_vuln)|resolve|stage_existing/.test(r.query))) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await admin.end();
    }
    child.kill('SIGTERM');
    const r = await done;
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/stopped by a signal and rolled back/);
    expect(await dumpClairTables(url)).toBe(before);
    const [last] = await query(url, 'SELECT outcome, error FROM clair_bundle.load_history ORDER BY id DESC LIMIT 1');
    expect(last).toEqual({ outcome: 'failed', error: 'load stopped by a signal and rolled back' });
  });

  it('load --require-signature refuses unsigned and mis-signed bundles, accepts a signed one', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const fs = await import('node:fs/promises');
    const url = await createClairDb(20);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    // In the run's temporary directory (test/helpers/tmp-root.ts), removed with it.
    const keys = (await import('node:fs')).mkdtempSync(path.join(os.tmpdir(), 'clair-bundle-keys-'));
    const mk = async (name: string) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await fs.writeFile(`${keys}/${name}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await fs.writeFile(`${keys}/${name}.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
    };
    await mk('good');
    await mk('other');
    const unsigned = runCli(['load', dir, '--db', url, '--require-signature', '--public-key', `${keys}/good.pub`]);
    expect(unsigned.status).toBe(3);
    expect(unsigned.stderr).toMatch(/manifest\.json\.sig is missing/);
    expect(runCli(['sign', dir, '--key', `${keys}/other.key`]).status).toBe(0);
    const wrong = runCli(['load', dir, '--db', url, '--require-signature', '--public-key', `${keys}/good.pub`]);
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toMatch(/does not verify manifest\.json/);
    expect(runCli(['sign', dir, '--key', `${keys}/good.key`]).status).toBe(0);
    expect(runCli(['verify', dir, '--public-key', `${keys}/good.pub`]).status).toBe(0);
    // openssl agrees: the signature is a plain SHA-256 ECDSA signature over manifest.json.
    await fs.writeFile(`${keys}/sig.der`, Buffer.from((await fs.readFile(`${dir}/manifest.json.sig`, 'utf8')).trim(), 'base64'));
    const ossl = spawnSync('openssl', ['dgst', '-sha256', '-verify', `${keys}/good.pub`, '-signature', `${keys}/sig.der`, `${dir}/manifest.json`], { encoding: 'utf8' });
    expect(ossl.stdout.trim()).toBe('Verified OK');
    const ok = runCli(['load', dir, '--db', url, '--require-signature', '--public-key', `${keys}/good.pub`]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(await query(url, 'SELECT count(*)::int AS n FROM vuln')).toEqual([{ n: 38 }]);
  });
});

describe('demo', () => {
  it('starts its own PostgreSQL, loads the sample feeds and answers the sample query', () => {
    const r = runCli(['demo']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/outcome: loaded/);
    expect(r.stdout).toMatch(/rhel-vex\s+loaded\s+1432/);
    expect(r.stdout).toMatch(/Which vulnerabilities affect openssl on RHEL 9\?\n[\s\S]*CVE-2023-6237\s+1:3\.0\.7-27\.el9/);
  });
});
