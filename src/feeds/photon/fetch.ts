import type { FetchContext } from '../types.js';
import { readFetchRecord } from '../fetch-record.js';
import { fetchOvalFiles, ovalBase, writeOvalFetchRecord, type OvalMirror } from '../oval/fetch.js';
import { DEFAULT_BASE_URL, FEED, PART, ovalFile, selectReleases } from './upstream.js';

/** One conditional GET per selected release (claircore's ovalutil.Fetcher per updater). */
export async function fetchPhoton(ctx: FetchContext): Promise<void> {
  const m: OvalMirror = { ctx, feed: FEED, part: PART, base: ovalBase(ctx, PART, DEFAULT_BASE_URL) };
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const wanted = selectReleases(ctx.options).map((r) => [ovalFile(r), new URL(ovalFile(r), m.base).href] as const);
  const { files, absent, outcomes } = await fetchOvalFiles(m, prev, wanted);
  await writeOvalFetchRecord(m, prev, files, absent);
  ctx.log.info('fetched photon', { feed: FEED, base: m.base, files: files.length, absent: absent.length, ...outcomes });
}
