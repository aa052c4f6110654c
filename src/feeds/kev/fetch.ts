import path from 'node:path';
import { feedErrors } from '../../errors.js';
import type { RetryOptions } from '../http.js';
import { fetchSingleFile } from '../single-file.js';
import type { FetchContext } from '../types.js';

/**
 * Mirrors CISA's Known Exploited Vulnerabilities catalog the way claircore's clair.kev enricher
 * fetches it (enricher/kev/kev.go): one JSON file, `sites/default/files/feeds/
 * known_exploited_vulnerabilities.json` under https://www.cisa.gov/, or exactly the file
 * `--url kev=` names when it does not end in `/` (claircore's `feed_root` setting is the file
 * URL). The request is conditional (If-Modified-Since, as claircore's fingerprint is the
 * Last-Modified header; ETag too).
 */
export const FEED = 'kev';
export const PART = 'kev';
export const DEFAULT_BASE_URL = 'https://www.cisa.gov/';
export const FEED_PATH = 'sites/default/files/feeds/known_exploited_vulnerabilities.json';

export const feedError = feedErrors(FEED);

/** The file URL and its mirror path for a base URL (a directory ending in `/`, or the file itself). */
export function feedLocation(base: string): { url: string; rel: string } {
  if (base.endsWith('/')) return { url: new URL(FEED_PATH, base).href, rel: FEED_PATH };
  const u = new URL(base);
  return { url: u.href, rel: decodeURIComponent(path.posix.basename(u.pathname)) || 'feed.json' };
}

export async function fetchKev(ctx: FetchContext, opts: { retry?: RetryOptions } = {}): Promise<void> {
  const base = ctx.baseUrls[PART] ?? DEFAULT_BASE_URL;
  const { url, rel } = feedLocation(base);
  await fetchSingleFile(ctx, {
    feed: FEED, part: PART, base, url, rel, retry: opts.retry,
    error: (err) => feedError({ file: `${PART}/${rel}` }, err.message, err),
  });
}
