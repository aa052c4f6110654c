import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findFileRecord, readFetchRecord, removeStaleFiles, writeFetchRecord, type AbsentRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { downloadFile, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import {
  DEFAULT_LAUNCHPAD_URL, DEFAULT_OVAL_URL, FEED, LAUNCHPAD_PART, OVAL_PART, SERIES_FILE, decodeSeries, feedError, ovalPath,
  ovalProbeUrl, releasesOption, selectSeries,
} from './upstream.js';

/**
 * Mirrors the ubuntu feed the way claircore's factory and updaters find it: the Launchpad
 * series list, then for each selected series a HEAD of
 * `oval/com.ubuntu.<name>.cve.oval.xml` asking for bzip2 (404: the series has no OVAL and is
 * recorded as absent), and a GET of the URL the server's Content-Location names (bzip2 when
 * the HEAD said `application/x-bzip2`). Everything is recorded in `.fetch/ubuntu.json`.
 */
export interface UbuntuFetchOptions {
  retry?: RetryOptions;
  /** Per-attempt timeout of the HEAD probe (default 30 s). */
  probeTimeoutMs?: number;
}

export async function fetchUbuntu(ctx: FetchContext, opts: UbuntuFetchOptions = {}): Promise<void> {
  const lpBase = withSlash(ctx.baseUrls[LAUNCHPAD_PART] ?? DEFAULT_LAUNCHPAD_URL);
  const ovalBase = withSlash(ctx.baseUrls[OVAL_PART] ?? DEFAULT_OVAL_URL);
  const wanted = releasesOption(ctx.options);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const get = async (part: string, url: string, rel: string): Promise<FileRecord> => {
    const r = await downloadFile(url, {
      part, relPath: rel, dir: ctx.partDir(part), previous: findFileRecord(prev, part, rel), signal: ctx.signal, retry: opts.retry,
    });
    ctx.log.info('fetched', { feed: FEED, file: `${part}/${rel}`, outcome: r.outcome });
    return r.record;
  };

  const series = await get(LAUNCHPAD_PART, new URL(SERIES_FILE, lpBase).href, SERIES_FILE);
  const display = `${LAUNCHPAD_PART}/${SERIES_FILE}`;
  const all = decodeSeries(await readFile(path.join(ctx.partDir(LAUNCHPAD_PART), ...SERIES_FILE.split('/')), 'utf8'), display);
  const files: FileRecord[] = [series];
  const absent: AbsentRecord[] = [];
  for (const s of selectSeries(all, wanted, display)) {
    const probe = ovalProbeUrl(ovalBase, s.name);
    const head = await probeOval(probe, ctx.signal, opts.probeTimeoutMs ?? 30_000);
    if (head.status === 404) {
      absent.push({ part: OVAL_PART, path: ovalPath(s.name, false), url: probe, status: 404, checkedAt: new Date().toISOString() });
      ctx.log.info('no OVAL published for series; skipped', { feed: FEED, release: s.name, url: probe });
      continue;
    }
    if (head.status !== 200) {
      throw feedError({ file: `${OVAL_PART}/${ovalPath(s.name, false)}` }, `HEAD ${probe} answered HTTP ${head.status}`);
    }
    files.push(await get(OVAL_PART, head.url, ovalPath(s.name, head.bzip2)));
  }
  await removeStaleFiles(prev, files, [OVAL_PART], (part) => ctx.partDir(part));
  const record: FetchRecord = {
    feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: { [LAUNCHPAD_PART]: lpBase, [OVAL_PART]: ovalBase }, files, absent,
  };
  await writeFetchRecord(ctx.mirror, record);
}

/** claircore's HEAD: `Accept: application/x-bzip2,application/xml;q=0.9`; Content-Location picks the file. */
async function probeOval(url: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<{ status: number; url: string; bzip2: boolean }> {
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
      const res = await fetch(url, {
        method: 'HEAD', redirect: 'follow', signal: AbortSignal.any(signals),
        headers: { accept: 'application/x-bzip2,application/xml;q=0.9', 'user-agent': 'clair-bundle' },
      });
      if (res.status >= 500 || res.status === 429) {
        lastErr = new Error(`HTTP ${res.status}`);
        continue;
      }
      const location = res.headers.get('content-location') ?? '';
      return {
        status: res.status,
        url: new URL(location, res.url || url).href,
        bzip2: (res.headers.get('content-type') ?? '').toLowerCase() === 'application/x-bzip2',
      };
    } catch (err) {
      if (signal?.aborted) throw err;
      lastErr = err;
    }
  }
  throw feedError({ file: url }, `HEAD ${url} failed: ${(lastErr as Error).message}`, lastErr);
}


function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
