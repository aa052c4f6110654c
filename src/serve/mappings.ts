import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { runSql } from '../load/db.js';
import type { Logger } from '../log.js';

/**
 * Serves Red Hat's mapping documents from clair_bundle.mapping_document, for Clair's
 * `repo2cpe_mapping_url` / `name2repos_mapping_url`. Stable paths, ETag = the upstream
 * document's sha256, Last-Modified = when it was loaded, 304 on a matching conditional request,
 * gzip when asked for.
 */
export const MAPPING_PATHS: Readonly<Record<string, string>> = {
  '/repository-to-cpe.json': 'repository-to-cpe.json',
  '/container-name-repos-map.json': 'container-name-repos-map.json',
};

interface Doc {
  body: string;
  sha256: string;
  loaded_at: Date;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm) return inm.split(',').map((s) => s.trim()).some((t) => t === etag || t === `W/${etag}` || t === '*');
  const ims = req.headers['if-modified-since'];
  if (ims) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}

export function createMappingServer(pool: pg.Pool, log: Logger): Server {
  return createServer((req, res) => {
    void handle(pool, req, res).catch((err: Error) => {
      log.error('serve-mappings request failed', { path: req.url, error: err.message });
      if (!res.headersSent) send(res, 503, JSON.stringify({ error: 'database unavailable' }) + '\n');
      else res.end();
    });
  });
}

async function handle(pool: pg.Pool, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, JSON.stringify({ error: 'method not allowed' }) + '\n', { allow: 'GET, HEAD' });
  if (url.pathname === '/healthz') {
    const rows = (await pool.query<{ name: string }>('SELECT name FROM clair_bundle.mapping_document ORDER BY name').catch(() => ({ rows: [] as { name: string }[] }))).rows;
    const missing = Object.values(MAPPING_PATHS).filter((n) => !rows.some((r) => r.name === n));
    return send(res, missing.length ? 503 : 200, JSON.stringify({ ok: missing.length === 0, loaded: rows.map((r) => r.name), missing }) + '\n');
  }
  const name = MAPPING_PATHS[url.pathname];
  if (!name) return send(res, 404, JSON.stringify({ error: 'not found', paths: Object.keys(MAPPING_PATHS) }) + '\n');
  const client = await pool.connect();
  let doc: Doc | undefined;
  try {
    [doc] = await runSql<Doc>(client, 'mapping-document', { name }).catch(() => [] as Doc[]);
  } finally {
    client.release();
  }
  if (!doc) {
    return send(res, 503, JSON.stringify({ error: `${name} has not been loaded yet: load a bundle that carries it (clair-bundle build --source rhel-mappings)` }) + '\n', { 'retry-after': '300' });
  }
  const etag = `"${doc.sha256}"`;
  const headers = { etag, 'last-modified': doc.loaded_at.toUTCString(), 'cache-control': 'no-cache' };
  if (notModified(req, etag, doc.loaded_at)) {
    res.writeHead(304, headers);
    return void res.end();
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? gzipSync(doc.body) : Buffer.from(doc.body);
  res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': String(body.length), vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
