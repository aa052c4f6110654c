import { rm } from 'node:fs/promises';
import path from 'node:path';
import { findFileRecord, readFetchRecord, writeFetchRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { downloadFile, mapLimit, type DownloadOutcome, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import {
  CHANGES_FILE, DELETIONS_FILE, FEED, LATEST_FILE, LOOK_BACK_TO_YEAR, checkDocPath, feedError, pathYear,
  readArchiveName, readChangeRows,
} from './mirror.js';

/**
 * Mirrors the VEX feed: archive_latest.txt, the archive it names, changes.csv,
 * deletions.csv, and every document changes.csv lists as changed at or after the archive's
 * Last-Modified (years ≥ 2015), which is the set claircore's first Fetch downloads. Every
 * request is conditional on the previous fetch record; documents are fetched with bounded
 * concurrency. Files the new record no longer lists are removed, then
 * `<mirror>/.fetch/rhel-vex.json` is written.
 */
export const PART = 'rhel-vex';
export const DEFAULT_BASE_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/';

export interface VexFetchOptions {
  /** Documents downloaded in parallel (default 8). */
  concurrency?: number;
  retry?: RetryOptions;
}

export interface FetchSummary {
  /** Files per outcome: downloaded, not-modified (HTTP 304), resumed. */
  outcomes: Record<DownloadOutcome, number>;
  /** Attempts beyond the first, over all files. */
  retries: number;
  /** Loose documents the record lists. */
  documents: number;
  /** Files of the previous record removed from the mirror. */
  pruned: number;
}

export async function fetchRhelVex(ctx: FetchContext, opts: VexFetchOptions = {}): Promise<FetchSummary> {
  const base = withSlash(ctx.baseUrls[PART] ?? DEFAULT_BASE_URL);
  const dir = ctx.partDir(PART);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const summary: FetchSummary = { outcomes: { downloaded: 0, 'not-modified': 0, resumed: 0 }, retries: 0, documents: 0, pruned: 0 };
  const get = async (rel: string): Promise<FileRecord> => {
    const r = await downloadFile(new URL(rel, base).href, {
      part: PART, relPath: rel, dir, previous: findFileRecord(prev, PART, rel), signal: ctx.signal, retry: opts.retry,
    });
    summary.outcomes[r.outcome]++;
    summary.retries += r.attempts - 1;
    return r.record;
  };

  const latest = await get(LATEST_FILE);
  const archive = await get(await readArchiveName(dir));
  const since = Date.parse(archive.lastModified);
  if (Number.isNaN(since)) {
    throw feedError({ file: `${PART}/${archive.path}` }, `the server sent no usable Last-Modified (${JSON.stringify(archive.lastModified)})`);
  }
  const changes = await get(CHANGES_FILE);
  const deletions = await get(DELETIONS_FILE);
  const docs = await changedDocuments(path.join(dir, CHANGES_FILE), since);
  const docRecords = await mapLimit(docs, opts.concurrency ?? 8, get);
  summary.documents = docRecords.length;

  const record: FetchRecord = {
    feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: { [PART]: base },
    files: [latest, archive, changes, deletions, ...docRecords],
  };
  summary.pruned = await prune(prev, record, dir);
  await writeFetchRecord(ctx.mirror, record);
  ctx.log.info('fetched rhel-vex', { feed: FEED, base, ...summary.outcomes, retries: summary.retries, documents: summary.documents, pruned: summary.pruned });
  return summary;
}

/** Paths of documents changed at or after `since`, years ≥ 2015, each once, in file order. */
async function changedDocuments(file: string, since: number): Promise<string[]> {
  const display = `${PART}/${CHANGES_FILE}`;
  const out = new Set<string>();
  for await (const row of readChangeRows(file, display)) {
    const place = { file: display, record: `line ${row.line}` };
    if (pathYear(row.path, place) < LOOK_BACK_TO_YEAR || row.time < since) continue;
    checkDocPath(row.path, place);
    out.add(row.path);
  }
  return [...out];
}

/** Removes files the previous record listed and the new one does not. */
async function prune(prev: FetchRecord | null, next: FetchRecord, dir: string): Promise<number> {
  const keep = new Set(next.files.map((f) => f.path));
  const stale = (prev?.files ?? []).filter((f) => f.part === PART && !keep.has(f.path) && !f.path.split('/').includes('..'));
  await Promise.all(stale.map((f) => rm(path.join(dir, ...f.path.split('/')), { force: true })));
  return stale.length;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
