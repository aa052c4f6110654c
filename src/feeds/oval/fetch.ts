import { findFileRecord, removeStaleFiles, writeFetchRecord, type AbsentRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { HttpStatusError, downloadFile, mapLimit, type DownloadOutcome, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';

/**
 * Mirroring for the feeds whose updaters are claircore `ovalutil.Fetcher`s (SUSE, Oracle,
 * Photon; spec clair-updaters.md §3.5): one conditional GET per updater file through the
 * shared downloader (claircore's fingerprint is the ETag / Last-Modified pair, which the fetch
 * record keeps per file). A file upstream does not have (HTTP 404) is recorded as absent: that
 * claircore updater fails its run and writes nothing, so the bundle has no update operation
 * for it either. Files the previous fetch recorded and this one no longer lists are removed.
 */
export interface OvalMirror {
  readonly ctx: FetchContext;
  readonly feed: string;
  readonly part: string;
  /** Effective base URL of the part (ends with `/`). */
  readonly base: string;
  readonly retry?: RetryOptions;
}

export interface OvalFetchSummary {
  files: FileRecord[];
  absent: AbsentRecord[];
  outcomes: Record<DownloadOutcome, number>;
}

/** The part's base URL (default overridden by `--url`), with a trailing slash as claircore's factories add it. */
export function ovalBase(ctx: FetchContext, part: string, fallback: string): string {
  const url = ctx.baseUrls[part] ?? fallback;
  return url.endsWith('/') ? url : `${url}/`;
}

/** One GET into the mirror, conditional on the previous record of the same file. */
export async function fetchOvalFile(m: OvalMirror, prev: FetchRecord | null, url: string, relPath: string): Promise<{ record: FileRecord; outcome: DownloadOutcome }> {
  const r = await downloadFile(url, {
    part: m.part, relPath, dir: m.ctx.partDir(m.part), previous: findFileRecord(prev, m.part, relPath), signal: m.ctx.signal, retry: m.retry,
  });
  return { record: r.record, outcome: r.outcome };
}

/**
 * Downloads every `[relPath, url]` (a few at a time); 404 → absent, any other failure aborts
 * the fetch with a FeedError naming the file.
 */
export async function fetchOvalFiles(
  m: OvalMirror, prev: FetchRecord | null, wanted: readonly (readonly [string, string])[], concurrency = 4,
): Promise<OvalFetchSummary> {
  const outcomes: Record<DownloadOutcome, number> = { downloaded: 0, 'not-modified': 0, resumed: 0 };
  const absent: AbsentRecord[] = [];
  const got = await mapLimit(wanted, concurrency, async ([relPath, url]) => {
    try {
      const r = await fetchOvalFile(m, prev, url, relPath);
      outcomes[r.outcome]++;
      return r.record;
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
      absent.push({ part: m.part, path: relPath, url, status: 404, checkedAt: new Date().toISOString() });
      m.ctx.log.warn('upstream has no such OVAL file; its updater is skipped', { feed: m.feed, url });
      return undefined;
    }
  });
  return { files: got.filter((f): f is FileRecord => f !== undefined), absent, outcomes };
}

/** Removes the previous fetch's files that `files` no longer lists, then writes the fetch record. */
export async function writeOvalFetchRecord(m: OvalMirror, prev: FetchRecord | null, files: FileRecord[], absent: AbsentRecord[]): Promise<void> {
  await removeStaleFiles(prev, files, [m.part], (part) => m.ctx.partDir(part));
  await writeFetchRecord(m.ctx.mirror, { feed: m.feed, fetchedAt: new Date().toISOString(), baseUrls: { [m.part]: m.base }, files, absent });
}

/** Where a file stands in a fetch record: fetched, absent upstream (404), or never asked for. */
export function ovalFileStatus(rec: FetchRecord | null, part: string, relPath: string): 'fetched' | 'absent' | 'missing' {
  if (rec?.files.some((f) => f.part === part && f.path === relPath)) return 'fetched';
  if (rec?.absent?.some((a) => a.part === part && a.path === relPath)) return 'absent';
  return 'missing';
}
