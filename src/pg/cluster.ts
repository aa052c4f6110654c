import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1 built with the system's initdb/pg_ctl, used by
 * `demo` and by the tests. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` OS user (Debian's postgresql package creates it).
 */
export interface Cluster {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dataDir: string;
  url(database: string): string;
  stop(): Promise<void>;
}

export function findPgBinDir(): string {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv && existsSync(path.join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries not found (set PG_BINDIR or install postgresql)');
  return path.join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function pgUid(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
    throw new Error('running as root needs the "postgres" OS user to start PostgreSQL');
  });
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

export async function startCluster(opts: { bindir?: string; settings?: Record<string, string> } = {}): Promise<Cluster> {
  const bindir = opts.bindir ?? findPgBinDir();
  const owner = await pgUid();
  const base = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-pg-'));
  const dataDir = path.join(base, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(base, 'pw');
  await writeFile(pwfile, password + '\n');
  if (owner) {
    await chmod(base, 0o700);
    await chown(base, owner.uid, owner.gid);
    await chown(pwfile, owner.uid, owner.gid);
  }
  const exec = (bin: string, args: string[]) =>
    owner ? run('runuser', ['-u', 'postgres', '--', path.join(bindir, bin), ...args]) : run(path.join(bindir, bin), args);
  await exec('initdb', ['-D', dataDir, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  await rm(pwfile);
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: base,
    fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '100',
    ...opts.settings,
  };
  const o = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  await exec('pg_ctl', ['-D', dataDir, '-o', o, '-l', path.join(base, 'log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    host: '127.0.0.1', port, user: 'postgres', password, dataDir,
    url: (db) => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(base, { recursive: true, force: true });
    },
  };
}
