import { ConfigError } from '../../errors.js';
import { readFetchRecord } from '../fetch-record.js';
import { fetchOvalFiles, ovalBase, writeOvalFetchRecord, type OvalMirror } from '../oval/fetch.js';
import type { FetchContext } from '../types.js';
import { DEFAULT_BASE_URL, FEED, PART, YEARS_OPTION, defaultYears, ovalFile, yearsOption } from './upstream.js';

/**
 * One conditional GET per year (claircore's ovalutil.Fetcher per `oracle-<year>-updater`),
 * 2007 to the current year unless `oracle-years` names others.
 */
export async function fetchOracle(ctx: FetchContext): Promise<void> {
  const m: OvalMirror = { ctx, feed: FEED, part: PART, base: ovalBase(ctx, PART, DEFAULT_BASE_URL) };
  const now = new Date().getFullYear();
  const years = yearsOption(ctx.options) ?? defaultYears();
  const future = years.filter((y) => y > now);
  if (future.length) throw new ConfigError(`${YEARS_OPTION}: ${future.join(', ')} is after the current year (claircore's last updater is oracle-${now}-updater)`);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const wanted = years.map((y) => [ovalFile(y), new URL(ovalFile(y), m.base).href] as const);
  const { files, absent, outcomes } = await fetchOvalFiles(m, prev, wanted);
  await writeOvalFetchRecord(m, prev, files, absent);
  ctx.log.info('fetched oracle', { feed: FEED, base: m.base, years: `${years[0]}-${years[years.length - 1]}`, files: files.length, absent: absent.length, ...outcomes });
}
