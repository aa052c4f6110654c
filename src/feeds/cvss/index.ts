import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, YEARS_OPTION, fetchCvss } from './fetch.js';
import { parseCvss } from './parse.js';

/**
 * NVD CVSS enrichment (claircore enricher/cvss), updater `clair.cvss`, kind enrichment: one
 * record per non-rejected CVE with a Primary CVSS v3.1 (else v3.0) metric, its cvssData as Go
 * compacts it. On by default, as in Clair. claircore v1.5.48 and v1.5.54 differ in logging only,
 * so both targets build the same rows.
 */
export const cvss: Feed = {
  id: 'cvss',
  description: 'NVD CVE API 2.0 yearly feeds → CVSS v3 enrichment, updater clair.cvss (enrichment); option cvss-years',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [YEARS_OPTION]: 'years of NVD feeds to fetch/build, e.g. 2021 or 2015-2025 (default: 2002 to this year, as claircore)' },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchCvss(ctx);
  },
  parse(ctx) {
    return parseCvss(ctx);
  },
};
