import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A local HTTP server over a directory laid out like the upstream mirror, for fetch tests:
 * GET/HEAD, strong ETag and Last-Modified, If-None-Match / If-Modified-Since → 304,
 * single `Range` (with If-Range) → 206/416, a request log, and scripted faults per path.
 * Listens on 127.0.0.1 on a random port.
 */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared/fixtures/feeds` from the repository root. */
export const DEFAULT_FEEDS_DIR = path.resolve(REPO_ROOT, '../shared/fixtures/feeds');

/** What to do instead of serving a request normally; each request to a path takes the next one. */
export type Fault =
  | { status: number }
  /** Send the headers and this many body bytes, then close the connection. */
  | { truncateAfter: number }
  /** Destroy the connection before answering. */
  | { reset: true };

export interface FeedServerOptions {
  /** Directory served (default DEFAULT_FEEDS_DIR). */
  root?: string;
  /** Last-Modified per URL path (default: the file's mtime). */
  lastModified?: Record<string, Date>;
  /** Scripted faults per URL path, consumed in order. */
  faults?: Record<string, Fault[]>;
  /** Send `Accept-Ranges: bytes` and honour Range (default true). */
  ranges?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  range?: string;
  conditional: boolean;
}

export interface FeedServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  readonly url: string;
  readonly log: LoggedRequest[];
  /** Adds faults for a path (consumed by the next requests to it). */
  fault(urlPath: string, ...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startFeedServer(opts: FeedServerOptions = {}): Promise<FeedServer> {
  const root = path.resolve(opts.root ?? DEFAULT_FEEDS_DIR);
  const faults = new Map<string, Fault[]>(Object.entries(opts.faults ?? {}).map(([k, v]) => [k, [...v]]));
  const log: LoggedRequest[] = [];
  const server = createServer((req, res) => {
    handle(req, res, { root, faults, log, lastModified: opts.lastModified ?? {}, ranges: opts.ranges ?? true }).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    fault: (p, ...f) => faults.set(p, [...(faults.get(p) ?? []), ...f]),
    close: () => closeServer(server),
  };
}

interface State {
  root: string;
  faults: Map<string, Fault[]>;
  log: LoggedRequest[];
  lastModified: Record<string, Date>;
  ranges: boolean;
}

async function handle(req: IncomingMessage, res: ServerResponse, s: State): Promise<void> {
  const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
  const entry: LoggedRequest = { method: req.method ?? '', path: urlPath, status: 0, range: req.headers.range, conditional };
  s.log.push(entry);
  const reply = (status: number, headers: Record<string, string | number> = {}) => {
    entry.status = status;
    res.writeHead(status, headers);
  };
  const fault = s.faults.get(urlPath)?.shift();
  if (fault && 'reset' in fault) return void req.socket.destroy();
  if (fault && 'status' in fault) return void (reply(fault.status), res.end());
  const file = path.join(s.root, urlPath);
  const st = file.startsWith(s.root + path.sep) ? await stat(file).catch(() => null) : null;
  if (!st?.isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) return void (reply(st ? 405 : 404), res.end());

  const lastModified = new Date(Math.floor((s.lastModified[urlPath] ?? st.mtime).getTime() / 1000) * 1000);
  const etag = `"${st.size.toString(16)}-${st.mtimeMs.toString(16).replace('.', '')}"`;
  const base: Record<string, string | number> = { etag, 'last-modified': lastModified.toUTCString(), 'content-type': 'application/octet-stream' };
  if (s.ranges) base['accept-ranges'] = 'bytes';
  if (notModified(req, etag, lastModified)) return void (reply(304, base), res.end());

  let start = 0;
  let end = st.size - 1;
  const range = s.ranges ? rangeOf(req, etag, lastModified, st.size) : null;
  if (range === 'unsatisfiable') return void (reply(416, { ...base, 'content-range': `bytes */${st.size}` }), res.end());
  if (range) [start, end] = range;
  const length = Math.max(0, end - start + 1);
  reply(range ? 206 : 200, { ...base, 'content-length': length, ...(range ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}) });
  if (req.method === 'HEAD' || length === 0) return void res.end();
  const limit = fault && 'truncateAfter' in fault ? fault.truncateAfter : Infinity;
  await sendBody(res, file, start, end, limit);
}

function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => t.trim() === etag || t.trim() === '*');
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && lastModified.getTime() <= t;
}

/** A single `bytes=a-b` / `bytes=a-` / `bytes=-n` range honoured when If-Range still matches. */
function rangeOf(req: IncomingMessage, etag: string, lastModified: Date, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const ifRange = req.headers['if-range'] as string | undefined;
  if (ifRange !== undefined && ifRange !== etag && Date.parse(ifRange) !== lastModified.getTime()) return null;
  let start: number;
  let end: number;
  if (m[1] === '') [start, end] = [Math.max(0, size - Number(m[2])), size - 1];
  else [start, end] = [Number(m[1]), m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)];
  return start >= size || start > end ? 'unsatisfiable' : [start, end];
}

async function sendBody(res: ServerResponse, file: string, start: number, end: number, limit: number): Promise<void> {
  let sent = 0;
  for await (const chunk of createReadStream(file, { start, end })) {
    const buf = chunk as Buffer;
    if (sent + buf.length > limit) {
      const head = buf.subarray(0, limit - sent);
      await new Promise<void>((resolve) => res.write(head, () => resolve()));
      // Let the client read the partial body, then drop the connection mid-transfer.
      await new Promise((resolve) => setTimeout(resolve, 100));
      res.destroy();
      return;
    }
    sent += buf.length;
    if (!res.write(buf)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * Files of a txtar archive (golang.org/x/tools/txtar): `-- name --` marker lines separate
 * files; text before the first marker is a comment. Names keep any extra words claircore's
 * fixtures put in the marker (`/changes.csv etag:something`); `name` is the first word.
 */
export function parseTxtar(text: string): { name: string; marker: string; data: string }[] {
  const out: { name: string; marker: string; data: string }[] = [];
  const re = /^-- (.+) --$/gm;
  const marks = [...text.matchAll(re)];
  marks.forEach((m, i) => {
    const start = m.index! + m[0].length + 1;
    const end = i + 1 < marks.length ? marks[i + 1].index! : text.length;
    out.push({ name: m[1].split(' ')[0], marker: m[1], data: text.slice(start, end) });
  });
  return out;
}
