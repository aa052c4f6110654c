import type { Feed } from '../types.js';
import { fetchOracle } from './fetch.js';
import { parseOracle } from './parse.js';
import { DEFAULT_BASE_URL, PART, YEARS_OPTION } from './upstream.js';

/**
 * Oracle Linux ELSA OVAL (claircore oracle), updaters `oracle-<year>-updater`. claircore
 * v1.5.48 and v1.5.54 build the same rows (their oracle and ovalutil code differ in logging
 * only), so both targets are supported.
 */
export const oracle: Feed = {
  id: 'oracle',
  description: 'Oracle Linux ELSA OVAL per year (linux.oracle.com), updaters oracle-<year>-updater',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [YEARS_OPTION]: 'years to fetch/build, e.g. 2023,2024 or 2015-2024 (fetch default: 2007 to the current year, as claircore; build default: those fetched)' },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchOracle(ctx);
  },
  parse(ctx) {
    return parseOracle(ctx);
  },
};
