import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFetchRecord, type AbsentRecord, type FileRecord } from '../../../../src/feeds/fetch-record.js';
import type { Feed, FetchContext, ParseContext } from '../../../../src/feeds/types.js';
import { silentLogger, type Logger } from '../../../../src/log.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';

/** Helpers shared by the alpine and debian unit tests. */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures');
export { DEFAULT_FEEDS_DIR as SHARED_FEEDS } from '../../../helpers/feed-server.js';

export function parseContext(mirror: string, options: Record<string, string> = {}, log: Logger = silentLogger): ParseContext {
  return { mirror, partDir: (part) => path.join(mirror, part), log, options };
}

export function fetchContext(mirror: string, baseUrls: Record<string, string>, options: Record<string, string> = {}, log: Logger = silentLogger): FetchContext {
  return { mirror, partDir: (part) => path.join(mirror, part), log, options, baseUrls };
}

export interface Collected {
  updater: string;
  records: Vulnerability[];
}

/** Every vulnerability output of a feed's parse, drained in order. */
export async function collect(feed: Feed, ctx: ParseContext): Promise<Collected[]> {
  const out: Collected[] = [];
  for await (const o of feed.parse(ctx)) {
    if (o.type !== 'vulnerability') throw new Error(`unexpected ${o.type} output`);
    const records: Vulnerability[] = [];
    for await (const r of o.records) records.push(r);
    out.push({ updater: o.updater, records });
  }
  return out;
}

/** A mirror holding `files` (copied from `src`) and a fetch record listing them. */
export async function makeMirror(
  feed: string,
  files: { part: string; path: string; src: string }[],
  absent: { part: string; path: string }[] = [],
): Promise<string> {
  const mirror = await mkdtemp(path.join(tmpdir(), `${feed}-parse-`));
  const records: FileRecord[] = [];
  for (const f of files) {
    const dest = path.join(mirror, f.part, ...f.path.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    await copyFile(f.src, dest);
    const body = await readFile(dest);
    records.push({
      part: f.part, path: f.path, url: `https://upstream.invalid/${f.path}`, etag: '', lastModified: '',
      sha256: createHash('sha256').update(body).digest('hex'), size: body.length, fetchedAt: '2025-01-04T00:15:56.000Z',
    });
  }
  const abs: AbsentRecord[] = absent.map((a) => ({ ...a, url: `https://upstream.invalid/${a.path}`, status: 404, checkedAt: '2025-01-04T00:15:56.000Z' }));
  await writeFetchRecord(mirror, { feed, fetchedAt: '2025-01-04T00:15:56.000Z', baseUrls: {}, files: records, absent: abs });
  return mirror;
}

/** Sorts by name then fixed-in version (claircore's test sorts by name; Go map order is random). */
export function byName(a: Vulnerability, b: Vulnerability): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.fixedInVersion < b.fixedInVersion ? -1 : a.fixedInVersion > b.fixedInVersion ? 1 : 0;
}

export interface StaticServer {
  url: string;
  /** `METHOD /path STATUS` per request. */
  log: string[];
  close(): Promise<void>;
}

/**
 * A plain file server over `root` for what test/helpers/feed-server.ts does not do (it answers
 * directory URLs with 405): `listing` answers a directory with 200 and an empty page, as Go's
 * http.FileServer in claircore's alpine TestFactory does; `index` serves `DIR/index.html` or
 * 404, as the conformance oracle's mirror does.
 */
export async function staticServer(root: string, directories: 'listing' | 'index'): Promise<StaticServer> {
  const log: string[] = [];
  const server = createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const reply = (status: number, file?: string, size = 0) => {
      log.push(`${req.method} ${p} ${status}`);
      res.writeHead(status, file ? { 'content-length': size } : {});
      if (file && req.method === 'GET') createReadStream(file).pipe(res);
      else res.end();
    };
    const abs = path.join(root, p);
    if (!abs.startsWith(root)) return reply(404);
    void (async () => {
      let st = await stat(abs).catch(() => null);
      let file = abs;
      if (st?.isDirectory()) {
        if (directories === 'listing') return reply(200);
        file = path.join(abs, 'index.html');
        st = await stat(file).catch(() => null);
      }
      return st?.isFile() ? reply(200, file, st.size) : reply(404);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
