import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART } from './ecosystems.js';
import { fetchOsv } from './fetch.js';
import { parseOsv } from './parse.js';

/**
 * OSV per-ecosystem dumps (claircore updater/osv), updaters `osv/<ecosystem>`. Rules follow
 * the build target (v1.5.54 or v1.5.48, see rules.ts); `--option osv-ecosystems=pypi,maven`
 * is claircore's allowlist.
 */
export const osv: Feed = {
  id: 'osv',
  description: 'OSV advisories per ecosystem (osv-vulnerabilities bucket all.zip dumps), updaters osv/<ecosystem>',
  parts: { [PART]: DEFAULT_BASE_URL },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchOsv(ctx);
  },
  parse(ctx) {
    return parseOsv(ctx);
  },
};
