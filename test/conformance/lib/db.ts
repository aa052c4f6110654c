import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export function adminUrl(): string {
  return inject('conformance').adminUrl;
}

export function urlFor(db: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${db}`;
  return u.toString();
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    // Same rendering of timestamps on both sides.
    await c.query("SET TimeZone = 'UTC'");
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database named `<prefix>_<random>`; returns its URL. */
export async function createDb(prefix: string): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE ${name}`));
  return urlFor(name);
}

/** A fresh database holding our schema fixture (sql/clair-schema/<files> run in order). */
export async function createFixtureDb(prefix: string, files: readonly string[]): Promise<string> {
  const url = await createDb(prefix);
  await withClient(url, async (c) => {
    for (const f of files) await c.query(await readFile(path.join(ROOT, 'sql', 'clair-schema', f), 'utf8'));
  });
  return url;
}
