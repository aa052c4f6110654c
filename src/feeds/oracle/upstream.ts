import type { Distribution, NormalizedSeverity } from '../../model/vulnerability.js';
import { yearsOption as parseYears, yearsSince } from '../years.js';

/**
 * Oracle Linux ELSA OVAL (claircore oracle/updater.go, updaterset.go, parser.go,
 * normalizeseverity.go): one updater per year from 2007 to the current year, named
 * `oracle-<year>-updater`, reading `com.oracle.elsa-<year>.xml.bz2` (bzip2) under the base URL.
 */
export const FEED = 'oracle';
export const PART = 'oracle';
export const DEFAULT_BASE_URL = 'https://linux.oracle.com/security/oval/';
export const FIRST_YEAR = 2007;
/** Feed option: years to fetch and build, e.g. `2023,2024` or `2015-2026`. */
export const YEARS_OPTION = 'oracle-years';

export function updaterName(year: number): string {
  return `oracle-${year}-updater`;
}

export function ovalFile(year: number): string {
  return `com.oracle.elsa-${year}.xml.bz2`;
}

const FILE_YEAR = /^com\.oracle\.elsa-(\d{4})\.xml\.bz2$/;

/** The year of a mirror file name, or undefined. */
export function fileYear(name: string): number | undefined {
  const m = FILE_YEAR.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** claircore's oracle.UpdaterSet years: 2007 … the current year. */
export function defaultYears(now = new Date()): number[] {
  return yearsSince(FIRST_YEAR, now);
}

/** The years named by the option, ascending, or undefined when it is not given. */
export function yearsOption(options: Readonly<Record<string, string>>): number[] | undefined {
  return parseYears(options, YEARS_OPTION, FIRST_YEAR, '2023,2024');
}

const PLATFORMS: Readonly<Record<string, string>> = {
  'Oracle Linux 5': '5', 'Oracle Linux 6': '6', 'Oracle Linux 7': '7', 'Oracle Linux 8': '8', 'Oracle Linux 9': '9',
};

/** claircore platformToDist: Oracle Linux 5–9 only (others, Oracle Linux 10 included, are unknown). */
export function platformDist(platform: string): Distribution | undefined {
  const v = Object.hasOwn(PLATFORMS, platform) ? PLATFORMS[platform] : undefined;
  if (v === undefined) return undefined;
  return {
    did: 'ol', name: 'Oracle Linux Server', version: v, versionCodeName: `Oracle Linux ${v}`, versionId: v, arch: '', cpe: '', prettyName: `Oracle Linux Server ${v}`,
  };
}

/** claircore oracle NormalizeSeverity: exact (upper-case) names only. */
export function normalizeSeverity(s: string): NormalizedSeverity {
  switch (s) {
    case 'LOW': return 'Low';
    case 'MODERATE': return 'Medium';
    case 'IMPORTANT': return 'High';
    case 'CRITICAL': return 'Critical';
    default: return 'Unknown';
  }
}
