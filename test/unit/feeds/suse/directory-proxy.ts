import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * Serves a directory URL (`…/`) the way an upstream web server does, from the `index.html`
 * the fixture mirror keeps for it (as test/oracle's mirror does), by forwarding to a
 * test/helpers/feed-server.ts instance, which serves files only. Everything else is forwarded
 * unchanged, conditional headers included, so the feed server's request log stays complete.
 */
export async function startDirectoryProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const pathname = u.pathname.endsWith('/') ? `${u.pathname}index.html` : u.pathname;
    const headers: Record<string, string> = {};
    for (const h of ['if-none-match', 'if-modified-since', 'range', 'if-range']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    fetch(`${target}${pathname}${u.search}`, { method: req.method, headers }).then(async (r) => {
      const out: Record<string, string> = {};
      r.headers.forEach((v, k) => { if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v; });
      res.writeHead(r.status, out);
      if (!r.body) return void res.end();
      Readable.fromWeb(r.body as WebReadableStream).pipe(res);
    }, () => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
