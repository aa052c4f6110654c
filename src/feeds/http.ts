import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FeedError } from '../errors.js';
import type { FileRecord } from './fetch-record.js';

/**
 * Shared downloader for every feed: conditional GET from the previous FileRecord
 * (If-None-Match / If-Modified-Since, only when the mirror still holds that file), retries
 * with exponential backoff on network errors, timeouts, 429 and 5xx, download to
 * `<dest>.part` with sha256 while streaming, resume of an interrupted `.part` with
 * `Range` + `If-Range` when the server supports it, atomic rename at the end.
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
  retry?: RetryOptions;
  /** Abort an attempt when no response headers arrive within this time (default 30 s). */
  headersTimeoutMs?: number;
  /** Abort an attempt when the body stalls this long (default 60 s). */
  idleTimeoutMs?: number;
}

export interface RetryOptions {
  /** Total attempts, first one included (default 4). */
  attempts?: number;
  /** First backoff delay; doubled per attempt, with jitter (default 500 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export type DownloadOutcome = 'downloaded' | 'not-modified' | 'resumed';

export interface DownloadResult {
  record: FileRecord;
  outcome: DownloadOutcome;
  /** Attempts used (1 when the first one succeeded). */
  attempts: number;
}

/** A download that ended with an HTTP status we do not accept. */
export class HttpStatusError extends FeedError {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    relPath: string,
  ) {
    super(message, { place: { file: relPath } });
  }
}

/** Downloads `url` into the mirror and returns what the fetch record keeps about it. */
export async function download(url: string, opts: DownloadOptions): Promise<FileRecord> {
  return (await downloadFile(url, opts)).record;
}

/** As download(), also telling whether the file changed and how many attempts it took. */
export async function downloadFile(url: string, opts: DownloadOptions): Promise<DownloadResult> {
  const attempts = opts.retry?.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      const { record, outcome } = await attemptDownload(url, opts);
      return { record, outcome, attempts: attempt };
    } catch (err) {
      if (opts.signal?.aborted || !isRetryable(err) || attempt >= attempts) throw toFeedError(err, url, opts.relPath);
      await sleep(backoff(attempt, opts.retry), opts.signal);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; the first error stops new work. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
  return results;
}

// ---- one attempt ----------------------------------------------------------------------

class RetryableError extends Error {}

interface PartMeta {
  url: string;
  etag: string;
  lastModified: string;
}

async function attemptDownload(url: string, opts: DownloadOptions): Promise<{ record: FileRecord; outcome: DownloadOutcome }> {
  const dest = path.join(opts.dir, ...opts.relPath.split('/'));
  const part = `${dest}.part`;
  await mkdir(path.dirname(dest), { recursive: true });
  const resume = await resumablePart(part, url);
  const headers = requestHeaders(resume, await conditional(dest, opts.previous));
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const headersTimer = setTimeout(() => ctl.abort(new RetryableError('timed out waiting for response headers')), opts.headersTimeoutMs ?? 30_000);
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: ctl.signal, redirect: 'follow' });
    } catch (err) {
      throw new RetryableError(`GET ${url} failed: ${describe(err, ctl.signal)}`, { cause: err });
    } finally {
      clearTimeout(headersTimer);
    }
    if (res.status === 304 && (headers['if-none-match'] ?? headers['if-modified-since']) !== undefined) {
      const prev = opts.previous!;
      const etag = res.headers.get('etag') ?? prev.etag;
      const lastModified = res.headers.get('last-modified') ?? prev.lastModified;
      return { record: { ...prev, url, etag, lastModified }, outcome: 'not-modified' };
    }
    if (res.status === 416 && resume) {
      await rm(part, { force: true });
      await rm(`${part}.json`, { force: true });
      throw new RetryableError(`GET ${url}: range not satisfiable, restarting`);
    }
    const append = res.status === 206 && resume !== null && rangeStart(res) === resume.size;
    if (res.status !== 200 && !append) {
      await res.body?.cancel();
      const msg = `GET ${url} answered HTTP ${res.status}`;
      if (res.status === 429 || res.status >= 500) throw new RetryableError(msg);
      throw new HttpStatusError(msg, res.status, url, opts.relPath);
    }
    const meta: PartMeta = { url, etag: res.headers.get('etag') ?? '', lastModified: res.headers.get('last-modified') ?? '' };
    const { sha256, size } = await writeBody(res, part, append ? resume!.size : 0, meta, ctl, opts);
    await rename(part, dest);
    await rm(`${part}.json`, { force: true });
    const record: FileRecord = {
      part: opts.part, path: opts.relPath, url, etag: meta.etag, lastModified: meta.lastModified,
      sha256, size, fetchedAt: new Date().toISOString(),
    };
    return { record, outcome: append ? 'resumed' : 'downloaded' };
  } finally {
    clearTimeout(headersTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Conditional headers only when the mirror still holds the previously recorded file. */
async function conditional(dest: string, prev: FileRecord | undefined): Promise<FileRecord | undefined> {
  if (!prev || (!prev.etag && !prev.lastModified)) return undefined;
  const st = await stat(dest).catch(() => null);
  return st?.isFile() && st.size === prev.size ? prev : undefined;
}

function requestHeaders(resume: { size: number; meta: PartMeta } | null, prev: FileRecord | undefined): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': 'clair-bundle', 'accept-encoding': 'identity' };
  if (resume) {
    h.range = `bytes=${resume.size}-`;
    const strong = resume.meta.etag && !resume.meta.etag.startsWith('W/');
    h['if-range'] = strong ? resume.meta.etag : resume.meta.lastModified;
    return h;
  }
  if (prev?.etag) h['if-none-match'] = prev.etag;
  if (prev?.lastModified) h['if-modified-since'] = prev.lastModified;
  return h;
}

/** A `.part` left by an interrupted download of the same URL, with a validator to resume on. */
async function resumablePart(part: string, url: string): Promise<{ size: number; meta: PartMeta } | null> {
  const st = await stat(part).catch(() => null);
  if (!st?.isFile() || st.size === 0) return null;
  try {
    const meta = JSON.parse(await readFile(`${part}.json`, 'utf8')) as PartMeta;
    if (meta.url === url && (meta.etag || meta.lastModified)) return { size: st.size, meta };
  } catch {
    // no usable metadata: start over
  }
  return null;
}

function rangeStart(res: Response): number {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : -1;
}

/**
 * Streams the body into `part` (appending after `offset` bytes when resuming). Each chunk is
 * on disk before the next is read, so an interrupted transfer leaves a `.part` to resume.
 */
async function writeBody(
  res: Response, part: string, offset: number, meta: PartMeta, ctl: AbortController, opts: DownloadOptions,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  if (offset > 0) await hashFile(part, hash);
  await writeFile(`${part}.json`, JSON.stringify(meta));
  const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  const stall = () => setTimeout(() => ctl.abort(new RetryableError('body stalled')), idleMs);
  let idle = stall();
  let size = offset;
  const fh = await open(part, offset > 0 ? 'a' : 'w');
  try {
    for await (const data of Readable.fromWeb(res.body as WebReadableStream)) {
      const chunk = data as Buffer;
      clearTimeout(idle);
      idle = stall();
      size += chunk.length;
      if (size > max) {
        await rm(part, { force: true });
        await rm(`${part}.json`, { force: true });
        throw new FeedError(`GET ${meta.url}: body exceeds ${max} bytes`, { place: { file: opts.relPath } });
      }
      hash.update(chunk);
      await fh.write(chunk);
    }
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw new RetryableError(`GET ${meta.url} failed while reading: ${describe(err, ctl.signal)}`, { cause: err });
  } finally {
    clearTimeout(idle);
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

// ---- retry policy ---------------------------------------------------------------------

function isRetryable(err: unknown): boolean {
  return err instanceof RetryableError;
}

function backoff(attempt: number, r: RetryOptions | undefined): number {
  const base = r?.baseDelayMs ?? 500;
  const max = r?.maxDelayMs ?? 10_000;
  const d = Math.min(max, base * 2 ** (attempt - 1));
  return d / 2 + Math.random() * (d / 2);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

function toFeedError(err: unknown, url: string, relPath: string): FeedError {
  if (err instanceof FeedError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new FeedError(msg.startsWith('GET ') ? msg : `GET ${url} failed: ${msg}`, { cause: err, place: { file: relPath } });
}
