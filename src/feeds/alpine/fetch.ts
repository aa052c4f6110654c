import { rm } from 'node:fs/promises';
import path from 'node:path';
import { feedErrors } from '../../errors.js';
import { findFileRecord, readFetchRecord, writeFetchRecord, type AbsentRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { HttpStatusError, downloadFile, mapLimit, type DownloadOutcome, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import { REPOS, releaseName, releasesOption, type Release } from './release.js';

/**
 * Mirrors Alpine's secdb (claircore alpine/updater.go, fetcher.go): `last-update`, then the
 * releases (discovered like claircore's factory, or given by `--option alpine-releases`), then
 * `<release>/main.json` and `<release>/community.json` of each. A JSON file upstream does not
 * have (404) is recorded as absent and gets no updater, as in claircore. Every GET is
 * conditional on the previous fetch record (claircore's fingerprint is the ETag).
 */
export const FEED = 'alpine';
export const PART = 'alpine';
export const DEFAULT_BASE_URL = 'https://secdb.alpinelinux.org/';
export const STAMP_FILE = 'last-update';
/** Discovery gives up past these (claircore has no bound; a server answering 200 to everything would never end). */
const MAX_MAJOR = 64;
const MAX_MINOR = 256;

export interface AlpineFetchOptions {
  /** Files downloaded in parallel (default 4). */
  concurrency?: number;
  retry?: RetryOptions;
}

export interface AlpineFetchSummary {
  releases: string[];
  outcomes: Record<DownloadOutcome, number>;
  /** Secdb files recorded (present upstream). */
  files: number;
  absent: number;
  pruned: number;
}

export const feedError = feedErrors(FEED);

export async function fetchAlpine(ctx: FetchContext, opts: AlpineFetchOptions = {}): Promise<AlpineFetchSummary> {
  const base = withSlash(ctx.baseUrls[PART] ?? DEFAULT_BASE_URL);
  const dir = ctx.partDir(PART);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const outcomes: Record<DownloadOutcome, number> = { downloaded: 0, 'not-modified': 0, resumed: 0 };
  const get = async (rel: string): Promise<FileRecord> => {
    const r = await downloadFile(new URL(rel, base).href, {
      part: PART, relPath: rel, dir, previous: findFileRecord(prev, PART, rel), signal: ctx.signal, retry: opts.retry,
    });
    outcomes[r.outcome]++;
    return r.record;
  };

  // claircore's factory reads last-update first and fails without it.
  const stamp = await get(STAMP_FILE);
  const releases = releasesOption(ctx.options) ?? [...(await discoverReleases(base, ctx, opts.retry)), 'edge' as const];
  const wanted = releases.flatMap((r) => REPOS.map((repo) => `${releaseName(r)}/${repo}.json`));
  const absent: AbsentRecord[] = [];
  const got = await mapLimit(wanted, opts.concurrency ?? 4, async (rel) => {
    try {
      return await get(rel);
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
      absent.push({ part: PART, path: rel, url: new URL(rel, base).href, status: 404, checkedAt: new Date().toISOString() });
      return undefined;
    }
  });
  const files = [stamp, ...got.filter((f): f is FileRecord => f !== undefined)];
  const record: FetchRecord = { feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: { [PART]: base }, files, absent };
  const pruned = await prune(prev, record, dir);
  await writeFetchRecord(ctx.mirror, record);
  const summary = { releases: releases.map(releaseName), outcomes, files: files.length - 1, absent: absent.length, pruned };
  ctx.log.info('fetched alpine', { feed: FEED, base, ...summary });
  return summary;
}

/**
 * claircore's release discovery: HEAD `v3.3/`, `v3.4/`, … ; a 404 ends the major (or the
 * search, when nothing was found in that major), then `v4.0/`, … ; any other status skips that
 * release and probing goes on, as in claircore, except 429/5xx (after retries), which fail the
 * fetch here, so a flaky mirror cannot silently drop releases.
 */
export async function discoverReleases(base: string, ctx: FetchContext, retry?: RetryOptions): Promise<Release[]> {
  const found: Release[] = [];
  for (let major = 3; major < MAX_MAJOR; major++) {
    let foundInMajor = false;
    for (let minor = major === 3 ? 3 : 0; ; minor++) {
      if (minor >= MAX_MINOR) throw feedError({ file: `${PART}/v${major}.${minor}/` }, `release discovery found more than ${MAX_MINOR} minor releases; is the base URL a secdb mirror?`);
      const r: Release = { major, minor };
      const url = new URL(`${releaseName(r)}/`, base).href;
      const status = await head(url, `${PART}/${releaseName(r)}/`, ctx.signal, retry);
      if (status === 200) {
        foundInMajor = true;
        found.push(r);
        continue;
      }
      if (status === 404) {
        if (foundInMajor) break;
        ctx.log.debug('alpine releases discovered', { feed: FEED, releases: found.map(releaseName) });
        return found;
      }
      if (status === 429 || status >= 500) throw feedError({ file: `${PART}/${releaseName(r)}/` }, `HEAD ${url} answered HTTP ${status}`);
      // claircore logs any other status ("unexpected status reported") and probes the next minor.
      ctx.log.warn('unexpected status probing an alpine release; skipped', { feed: FEED, url, status });
    }
  }
  throw feedError({ file: `${PART}/v${MAX_MAJOR}.0/` }, `release discovery went past v${MAX_MAJOR}; is the base URL a secdb mirror?`);
}

/** HEAD with the downloader's retry policy for network errors, timeouts, 429 and 5xx; returns the final status. */
async function head(url: string, display: string, signal: AbortSignal | undefined, retry: RetryOptions = {}): Promise<number> {
  const attempts = retry.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    let status: number | undefined;
    let failure: unknown;
    try {
      const timeout = AbortSignal.timeout(30_000);
      const res = await fetch(url, { method: 'HEAD', redirect: 'follow', headers: { 'user-agent': 'clair-bundle' }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      if (signal?.aborted) throw err;
      failure = err;
    }
    const retryable = status === undefined || status === 429 || status >= 500;
    if (!retryable) return status!;
    if (attempt >= attempts) {
      if (status !== undefined) return status;
      const cause = (failure as { cause?: { code?: string } }).cause?.code ?? (failure as Error).message;
      throw feedError({ file: display }, `HEAD ${url} failed: ${cause}`, failure);
    }
    const base = retry.baseDelayMs ?? 500;
    const delay = Math.min(retry.maxDelayMs ?? 10_000, base * 2 ** (attempt - 1));
    await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
  }
}

/** Removes files the previous record listed and the new one does not (including files now absent upstream). */
async function prune(prev: FetchRecord | null, next: FetchRecord, dir: string): Promise<number> {
  const keep = new Set(next.files.map((f) => f.path));
  const stale = (prev?.files ?? []).filter((f) => f.part === PART && !keep.has(f.path) && !f.path.split('/').includes('..'));
  await Promise.all(stale.map((f) => rm(path.join(dir, ...f.path.split('/')), { force: true })));
  return stale.length;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
