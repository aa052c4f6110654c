import { FeedError, feedErrors } from '../../errors.js';
import { findFileRecord, readFetchRecord, removeStaleFiles, writeFetchRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { downloadFile, type RetryOptions } from '../http.js';
import type { FetchContext } from '../types.js';
import { yearsOption as parseYears, yearsSince } from '../years.js';

/**
 * Mirrors NVD's CVE API 2.0 yearly feeds the way claircore's clair.cvss enricher reads them
 * (enricher/cvss/cvss.go): for every year from 2002 to the current year, `nvdcve-2.0-<year>.meta`
 * and `nvdcve-2.0-<year>.json.gz` under the feed root. claircore fails its whole run when any
 * year is missing, and so does fetch (a 404 is an error), unless `--option cvss-years` narrows
 * the years. Requests are conditional on the previous fetch record.
 */
export const FEED = 'cvss';
export const PART = 'cvss';
export const DEFAULT_BASE_URL = 'https://nvd.nist.gov/feeds/json/cve/2.0/';
export const FIRST_YEAR = 2002;
export const YEARS_OPTION = 'cvss-years';

export const feedError = feedErrors(FEED);

export const metaPath = (year: number) => `nvdcve-2.0-${year}.meta`;
export const feedPath = (year: number) => `nvdcve-2.0-${year}.json.gz`;

/** claircore's years: 2002 … the current (local) year. */
export function defaultYears(now = new Date()): number[] {
  return yearsSince(FIRST_YEAR, now);
}

/** The years `--option cvss-years=2019-2021,2024` names, ascending, or undefined. */
export function yearsOption(options: Readonly<Record<string, string>>): number[] | undefined {
  return parseYears(options, YEARS_OPTION, FIRST_YEAR, '2021');
}

export async function fetchCvss(ctx: FetchContext, opts: { retry?: RetryOptions } = {}): Promise<void> {
  const base = withSlash(ctx.baseUrls[PART] ?? DEFAULT_BASE_URL);
  const dir = ctx.partDir(PART);
  const years = yearsOption(ctx.options) ?? defaultYears();
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const files: FileRecord[] = [];
  for (const year of years) {
    for (const rel of [metaPath(year), feedPath(year)]) {
      try {
        const r = await downloadFile(new URL(rel, base).href, { part: PART, relPath: rel, dir, previous: findFileRecord(prev, PART, rel), signal: ctx.signal, retry: opts.retry });
        ctx.log.debug('fetched', { feed: FEED, file: rel, outcome: r.outcome });
        files.push(r.record);
      } catch (err) {
        if (err instanceof FeedError) {
          throw feedError({ file: `${PART}/${rel}` }, err.message, err, `claircore needs every year from ${FIRST_YEAR}; --option ${YEARS_OPTION}=… restricts the years fetched and built`);
        }
        throw err;
      }
    }
  }
  await removeStaleFiles(prev, files, [PART], (part) => ctx.partDir(part));
  const record: FetchRecord = { feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: { [PART]: base }, files };
  await writeFetchRecord(ctx.mirror, record);
  ctx.log.info('fetched cvss', { feed: FEED, base, years: years.length === 1 ? String(years[0]) : `${years[0]}-${years.at(-1)}`, files: files.length });
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
