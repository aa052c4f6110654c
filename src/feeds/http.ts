import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FeedError } from '../errors.js';
import type { FileRecord } from './fetch-record.js';

/**
 * Shared downloader for every feed. Conditional requests from the previous FileRecord
 * (If-None-Match / If-Modified-Since), download to a temp file and rename, sha256 while
 * streaming. (Retries with backoff, resume and bounded concurrency: see issue 3.)
 */
export interface DownloadOptions {
  /** The part and the part-relative path the file is stored under. */
  part: string;
  relPath: string;
  /** Part directory in the mirror. */
  dir: string;
  previous?: FileRecord;
  signal?: AbortSignal;
  /** Refuse bodies larger than this many bytes. */
  maxBytes?: number;
}

export async function download(url: string, opts: DownloadOptions): Promise<FileRecord> {
  const headers: Record<string, string> = { 'user-agent': 'clair-bundle' };
  if (opts.previous?.etag) headers['if-none-match'] = opts.previous.etag;
  if (opts.previous?.lastModified) headers['if-modified-since'] = opts.previous.lastModified;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: opts.signal, redirect: 'follow' });
  } catch (err) {
    throw new FeedError(`GET ${url} failed: ${(err as Error).message}`, { cause: err, place: { file: opts.relPath } });
  }
  if (res.status === 304 && opts.previous) return opts.previous;
  if (res.status !== 200 || !res.body) {
    throw new FeedError(`GET ${url} answered HTTP ${res.status}`, { place: { file: opts.relPath } });
  }
  const dest = path.join(opts.dir, ...opts.relPath.split('/'));
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.part`;
  const hash = createHash('sha256');
  let size = 0;
  const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) return cb(new FeedError(`GET ${url}: body exceeds ${max} bytes`, { place: { file: opts.relPath } }));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), meter, createWriteStream(tmp));
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof FeedError) throw err;
    throw new FeedError(`GET ${url} failed while reading: ${(err as Error).message}`, { cause: err, place: { file: opts.relPath } });
  }
  await rename(tmp, dest);
  return {
    part: opts.part,
    path: opts.relPath,
    url,
    etag: res.headers.get('etag') ?? '',
    lastModified: res.headers.get('last-modified') ?? '',
    sha256: hash.digest('hex'),
    size,
    fetchedAt: new Date().toISOString(),
  };
}
