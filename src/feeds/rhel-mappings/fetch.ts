import { rm } from 'node:fs/promises';
import path from 'node:path';
import { findFileRecord, readFetchRecord, writeFetchRecord, type AbsentRecord, type FileRecord } from '../fetch-record.js';
import { HttpStatusError, downloadFile, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import { NAME2REPOS, REPO2CPE } from './upstream.js';

/**
 * Mirrors Red Hat's two indexer mapping documents. repository-to-cpe.json is required;
 * container-name-repos-map.json is optional: when upstream answers 404 the fetch record
 * lists it under `absent` (and a stale local copy is removed), so parse can tell "not
 * published" from "never fetched".
 */
export const FEED = 'rhel-mappings';
export const PART = 'rhel-mappings';
export const DEFAULT_BASE_URL = 'https://security.access.redhat.com/data/metrics/';

export const MAPPING_FILES: ReadonlyArray<{ name: string; optional: boolean }> = [
  { name: REPO2CPE, optional: false },
  { name: NAME2REPOS, optional: true },
];

export async function fetchRhelMappings(ctx: FetchContext, opts: { retry?: RetryOptions } = {}): Promise<void> {
  const base = withSlash(ctx.baseUrls[PART] ?? DEFAULT_BASE_URL);
  const dir = ctx.partDir(PART);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const files: FileRecord[] = [];
  const absent: AbsentRecord[] = [];
  for (const { name, optional } of MAPPING_FILES) {
    const url = new URL(name, base).href;
    try {
      const r = await downloadFile(url, { part: PART, relPath: name, dir, previous: findFileRecord(prev, PART, name), signal: ctx.signal, retry: opts.retry });
      files.push(r.record);
      ctx.log.info('fetched mapping', { feed: FEED, file: name, outcome: r.outcome });
    } catch (err) {
      if (!(optional && err instanceof HttpStatusError && err.status === 404)) throw err;
      absent.push({ part: PART, path: name, url, status: 404, checkedAt: new Date().toISOString() });
      await rm(path.join(dir, name), { force: true });
      ctx.log.warn('optional mapping not published upstream', { feed: FEED, file: name, url });
    }
  }
  await writeFetchRecord(ctx.mirror, { feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: { [PART]: base }, files, absent });
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
