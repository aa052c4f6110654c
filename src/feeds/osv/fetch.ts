import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findFileRecord, readFetchRecord, removeStaleFiles, writeFetchRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { downloadFile, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import { DEFAULT_BASE_URL, ECOSYSTEMS_FILE, FEED, PART, allowlistOption, dumpPath, dumpUrl, selectEcosystems } from './ecosystems.js';

/**
 * Mirrors OSV's bucket layout: ecosystems.txt, then `<ecosystem>/all.zip` for every ecosystem
 * claircore's factory would make an updater for (ignore list and allowlist applied). Requests
 * are conditional on the previous fetch record; dumps no longer selected are removed.
 */
export async function fetchOsv(ctx: FetchContext, opts: { retry?: RetryOptions } = {}): Promise<void> {
  const base = withSlash(ctx.baseUrls[PART] ?? DEFAULT_BASE_URL);
  const dir = ctx.partDir(PART);
  const allow = allowlistOption(ctx.options);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const get = async (url: string, rel: string): Promise<FileRecord> => {
    const r = await downloadFile(url, { part: PART, relPath: rel, dir, previous: findFileRecord(prev, PART, rel), signal: ctx.signal, retry: opts.retry });
    ctx.log.info('fetched', { feed: FEED, file: rel, outcome: r.outcome });
    return r.record;
  };
  const files: FileRecord[] = [await get(new URL(ECOSYSTEMS_FILE, base).href, ECOSYSTEMS_FILE)];
  const text = await readFile(path.join(dir, ECOSYSTEMS_FILE), 'utf8');
  for (const e of selectEcosystems(text, allow, `${PART}/${ECOSYSTEMS_FILE}`)) {
    files.push(await get(dumpUrl(base, e), dumpPath(e)));
  }
  await removeStaleFiles(prev, files, [PART], (part) => ctx.partDir(part));
  const record: FetchRecord = { feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: { [PART]: base }, files };
  await writeFetchRecord(ctx.mirror, record);
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
