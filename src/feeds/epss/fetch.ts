import path from 'node:path';
import { ConfigError, feedErrors } from '../../errors.js';
import type { RetryOptions } from '../http.js';
import { fetchSingleFile } from '../single-file.js';
import type { FetchContext } from '../types.js';

/**
 * Mirrors the EPSS daily scores file the way claircore's clair.epss enricher fetches it
 * (enricher/epss/epss.go): `<base>/epss_scores-<yesterday, local date>.csv.gz`, or, when
 * `--url epss=` names a `.gz` file (claircore's `url` setting), exactly that file. The request
 * is conditional on the previous fetch record; the previous day's file is removed.
 */
export const FEED = 'epss';
export const PART = 'epss';
export const DEFAULT_BASE_URL = 'https://epss.cyentia.com/';

export const feedError = feedErrors(FEED);

/** claircore currentFeedURL's file name: yesterday in the local time zone. */
export function dailyFileName(now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `epss_scores-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}.csv.gz`;
}

/** The file URL and its mirror path for a base URL (a directory ending in `/`, or a `.gz` file). */
export function feedLocation(base: string, now = new Date()): { url: string; rel: string } {
  if (base.endsWith('/')) {
    const rel = dailyFileName(now);
    return { url: new URL(rel, base).href, rel };
  }
  const u = new URL(base);
  if (!u.pathname.endsWith('.gz')) {
    throw new ConfigError(`--url ${PART}=${base}: expected a directory (ending in /) or a .gz file, as claircore's epss url setting`);
  }
  return { url: u.href, rel: decodeURIComponent(path.posix.basename(u.pathname)) };
}

export async function fetchEpss(ctx: FetchContext, opts: { retry?: RetryOptions; now?: Date } = {}): Promise<void> {
  const base = ctx.baseUrls[PART] ?? DEFAULT_BASE_URL;
  const { url, rel } = feedLocation(base, opts.now);
  await fetchSingleFile(ctx, {
    feed: FEED, part: PART, base, url, rel, retry: opts.retry,
    error: (err) => feedError({ file: `${PART}/${rel}` }, err.message, err, `--url ${PART}=<file URL>.gz fetches a given day's file`),
  });
}
