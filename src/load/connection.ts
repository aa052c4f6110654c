import { readFile } from 'node:fs/promises';
import type { ClientConfig } from 'pg';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';

/**
 * Where the database connection comes from, first match wins (contract §2):
 * --db · --clair-config (matcher.connstring) · CLAIR_CONF · CLAIR_BUNDLE_DB · PG* variables.
 */
export interface ConnectionSource {
  db?: string;
  clairConfig?: string;
  env: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedConnection {
  config: ClientConfig;
  /** user@host:port/database, never with the password. */
  description: string;
  /** Secrets to scrub from every message. */
  secrets: string[];
  from: string;
}

/** Parses a libpq keyword/value connection string (`host=… password='a b'`). */
export function parseKeywordString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const ws = () => { while (i < s.length && /\s/.test(s[i])) i++; };
  while (true) {
    ws();
    if (i >= s.length) break;
    const keyStart = i;
    while (i < s.length && /[A-Za-z_]/.test(s[i])) i++;
    const key = s.slice(keyStart, i);
    ws();
    if (!key || s[i] !== '=') throw new ConfigError(`malformed connection string near position ${keyStart + 1}`);
    i++;
    ws();
    let value = '';
    if (s[i] === "'") {
      i++;
      while (i < s.length && s[i] !== "'") {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
      if (s[i] !== "'") throw new ConfigError('malformed connection string: unterminated quoted value');
      i++;
    } else {
      while (i < s.length && !/\s/.test(s[i])) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
    }
    out[key] = value;
  }
  return out;
}

function sslFrom(mode: string | undefined): ClientConfig['ssl'] {
  switch (mode) {
    case undefined: case '': case 'disable': case 'allow': case 'prefer': return undefined;
    case 'require': return { rejectUnauthorized: false };
    case 'verify-ca': case 'verify-full': return { rejectUnauthorized: true };
    default: throw new ConfigError(`unsupported sslmode ${JSON.stringify(mode)}`);
  }
}

function fromKeywords(kv: Record<string, string>): ClientConfig {
  const known = new Set(['host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'sslmode', 'connect_timeout', 'application_name', 'options', 'pool_max_conns', 'pool_min_conns', 'sslrootcert']);
  for (const k of Object.keys(kv)) {
    if (!known.has(k)) throw new ConfigError(`unsupported connection parameter "${k}"`);
  }
  return {
    host: kv.hostaddr || kv.host, port: kv.port ? Number(kv.port) : undefined, database: kv.dbname,
    user: kv.user, password: kv.password, ssl: sslFrom(kv.sslmode),
    connectionTimeoutMillis: kv.connect_timeout ? Number(kv.connect_timeout) * 1000 : undefined,
    options: kv.options,
  };
}

function fromUrl(url: string): ClientConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('malformed connection URL');
  }
  const q = u.searchParams;
  return {
    host: decodeURIComponent(u.hostname) || q.get('host') || undefined,
    port: u.port ? Number(u.port) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || q.get('dbname') || undefined,
    user: decodeURIComponent(u.username) || q.get('user') || undefined,
    password: u.password ? decodeURIComponent(u.password) : q.get('password') ?? undefined,
    ssl: sslFrom(q.get('sslmode') ?? undefined),
    connectionTimeoutMillis: q.get('connect_timeout') ? Number(q.get('connect_timeout')) * 1000 : undefined,
  };
}

export function parseConnString(s: string): ClientConfig {
  return /^postgres(ql)?:\/\//i.test(s.trim()) ? fromUrl(s.trim()) : fromKeywords(parseKeywordString(s));
}

async function connstringFromClairConfig(file: string): Promise<string> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    // The YAML parser's message quotes the offending lines, which may hold the connection string:
    // keep its first line (what and where) only.
    const what = (err as Error).message.split('\n')[0].replace(/:\s*$/, '');
    throw new ConfigError(`cannot read Clair config ${file}: ${what}`, { cause: err });
  }
  const conn = (doc as { matcher?: { connstring?: unknown } } | null)?.matcher?.connstring;
  if (typeof conn !== 'string' || conn.trim() === '') {
    throw new ConfigError(`Clair config ${file} has no matcher.connstring`);
  }
  return conn;
}

export async function resolveConnection(src: ConnectionSource): Promise<ResolvedConnection> {
  let conn: string | undefined;
  let from: string;
  if (src.db) [conn, from] = [src.db, '--db'];
  else if (src.clairConfig) [conn, from] = [await connstringFromClairConfig(src.clairConfig), `--clair-config ${src.clairConfig}`];
  else if (src.env.CLAIR_CONF) [conn, from] = [await connstringFromClairConfig(src.env.CLAIR_CONF), `CLAIR_CONF ${src.env.CLAIR_CONF}`];
  else if (src.env.CLAIR_BUNDLE_DB) [conn, from] = [src.env.CLAIR_BUNDLE_DB, 'CLAIR_BUNDLE_DB'];
  else from = 'PG* environment';
  const config: ClientConfig = conn ? parseConnString(conn) : {};
  const env = src.env;
  const host = config.host ?? env.PGHOST ?? 'localhost';
  const port = config.port ?? (env.PGPORT ? Number(env.PGPORT) : 5432);
  const user = config.user ?? env.PGUSER ?? env.USER ?? '';
  const database = config.database ?? env.PGDATABASE ?? user;
  const secrets = [config.password, env.PGPASSWORD].filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (conn) secrets.push(conn);
  return {
    config: { ...config, host, port, user, database, application_name: 'clair-bundle' },
    description: `${user}@${host}:${port}/${database}`,
    secrets,
    from,
  };
}

/** Replaces every secret in a message with ***. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= 3) out = out.split(s).join('***');
  }
  return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@').replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***');
}
