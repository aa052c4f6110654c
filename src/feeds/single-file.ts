import { FeedError } from '../errors.js';
import { findFileRecord, readFetchRecord, removeStaleFiles, writeFetchRecord } from './fetch-record.js';
import { downloadFile, type RetryOptions } from './http.js';
import type { FetchContext } from './types.js';

/**
 * Mirrors a feed that is one file (the enrichers' feeds): a download conditional on the previous
 * fetch record, the previous file removed when the name changed, a new record.
 */
export async function fetchSingleFile(ctx: FetchContext, f: {
  feed: string;
  part: string;
  /** The base URL the record keeps. */
  base: string;
  url: string;
  /** Path under the part directory. */
  rel: string;
  /** Turns a failed download into the feed's error (naming the file). */
  error: (err: FeedError) => FeedError;
  retry?: RetryOptions;
}): Promise<void> {
  const prev = await readFetchRecord(ctx.mirror, f.feed);
  let got;
  try {
    got = await downloadFile(f.url, {
      part: f.part, relPath: f.rel, dir: ctx.partDir(f.part), previous: findFileRecord(prev, f.part, f.rel), signal: ctx.signal, retry: f.retry,
    });
  } catch (err) {
    throw err instanceof FeedError ? f.error(err) : err;
  }
  await removeStaleFiles(prev, [got.record], [f.part], (part) => ctx.partDir(part));
  await writeFetchRecord(ctx.mirror, { feed: f.feed, fetchedAt: new Date().toISOString(), baseUrls: { [f.part]: f.base }, files: [got.record] });
  ctx.log.info(`fetched ${f.feed}`, { feed: f.feed, url: f.url, outcome: got.outcome });
}
