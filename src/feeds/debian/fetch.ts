import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { feedErrors } from '../../errors.js';
import { findFileRecord, readFetchRecord, writeFetchRecord, type AbsentRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { HttpStatusError, downloadFile, mapLimit, type DownloadOutcome, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import { listingCodenames, releasesOption, skipWord } from './releases.js';

/**
 * Mirrors what claircore's debian updater reads (claircore debian/updater.go): the tracker JSON
 * (part `debian.tracker`, claircore's json_url) and, from the archive mirror (part
 * `debian.dists`, claircore's mirror_url), the `debian/dists/` listing and the Release file of
 * every codename in it that claircore does not skip by name. `--option debian-releases=…`
 * replaces the listing. A Release file upstream does not have (404) is recorded as absent, as
 * claircore ignores it. Every GET is conditional on the previous fetch record (claircore's
 * fingerprint is the tracker JSON's Last-Modified).
 */
export const FEED = 'debian';
export const TRACKER_PART = 'debian.tracker';
export const DISTS_PART = 'debian.dists';
export const DEFAULT_TRACKER_URL = 'https://security-tracker.debian.org/';
export const DEFAULT_DISTS_URL = 'https://deb.debian.org/';
/** The tracker JSON, relative to the tracker base (claircore DefaultJSON). */
export const TRACKER_FILE = 'tracker/data/json';
/** The `dists/` directory listing: requested as `debian/dists/`, stored under this name. */
export const LISTING_URL_PATH = 'debian/dists/';
export const LISTING_FILE = 'debian/dists/index.html';

export function releaseFile(codename: string): string {
  return `debian/dists/${codename}/Release`;
}

export const feedError = feedErrors(FEED);

export interface DebianFetchOptions {
  concurrency?: number;
  retry?: RetryOptions;
}

export interface DebianFetchSummary {
  codenames: string[];
  outcomes: Record<DownloadOutcome, number>;
  absent: number;
  pruned: number;
}

export async function fetchDebian(ctx: FetchContext, opts: DebianFetchOptions = {}): Promise<DebianFetchSummary> {
  const bases = {
    [TRACKER_PART]: withSlash(ctx.baseUrls[TRACKER_PART] ?? DEFAULT_TRACKER_URL),
    [DISTS_PART]: withSlash(ctx.baseUrls[DISTS_PART] ?? DEFAULT_DISTS_URL),
  };
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const outcomes: Record<DownloadOutcome, number> = { downloaded: 0, 'not-modified': 0, resumed: 0 };
  const get = async (part: keyof typeof bases, rel: string, urlPath = rel): Promise<FileRecord> => {
    const r = await downloadFile(new URL(urlPath, bases[part]).href, {
      part, relPath: rel, dir: ctx.partDir(part), previous: findFileRecord(prev, part, rel), signal: ctx.signal, retry: opts.retry,
    });
    outcomes[r.outcome]++;
    return r.record;
  };

  const files: FileRecord[] = [];
  let codenames = releasesOption(ctx.options);
  if (codenames) {
    for (const c of codenames.filter((n) => skipWord(n))) {
      ctx.log.warn('claircore never registers this release (its name contains a skipped word); not fetched', { feed: FEED, release: c, word: skipWord(c) });
    }
    codenames = codenames.filter((n) => !skipWord(n));
  } else {
    const listing = await get(DISTS_PART, LISTING_FILE, LISTING_URL_PATH);
    files.push(listing);
    codenames = listingCodenames(await readFile(path.join(ctx.partDir(DISTS_PART), ...LISTING_FILE.split('/')), 'latin1'));
  }
  const absent: AbsentRecord[] = [];
  const releases = await mapLimit(codenames, opts.concurrency ?? 4, async (c) => {
    const rel = releaseFile(c);
    try {
      return await get(DISTS_PART, rel);
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
      absent.push({ part: DISTS_PART, path: rel, url: new URL(rel, bases[DISTS_PART]).href, status: 404, checkedAt: new Date().toISOString() });
      return undefined;
    }
  });
  files.push(...releases.filter((f): f is FileRecord => f !== undefined));
  files.push(await get(TRACKER_PART, TRACKER_FILE));

  const record: FetchRecord = { feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: bases, files, absent };
  const pruned = await prune(prev, record, ctx);
  await writeFetchRecord(ctx.mirror, record);
  const summary = { codenames, outcomes, absent: absent.length, pruned };
  ctx.log.info('fetched debian', { feed: FEED, ...summary });
  return summary;
}

/** Removes files the previous record listed and the new one does not. */
async function prune(prev: FetchRecord | null, next: FetchRecord, ctx: FetchContext): Promise<number> {
  const keep = new Set(next.files.map((f) => `${f.part}/${f.path}`));
  const stale = (prev?.files ?? []).filter((f) => (f.part === TRACKER_PART || f.part === DISTS_PART) && !keep.has(`${f.part}/${f.path}`) && !f.path.split('/').includes('..'));
  await Promise.all(stale.map((f) => rm(path.join(ctx.partDir(f.part), ...f.path.split('/')), { force: true })));
  return stale.length;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
