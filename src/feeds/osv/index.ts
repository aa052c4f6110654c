import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART } from './ecosystems.js';
import { fetchOsv } from './fetch.js';
import { parseOsv } from './parse.js';
import { ECOSYSTEMS_OPTION } from './ecosystems.js';
import { RULES_OPTION } from './rules.js';

/**
 * OSV per-ecosystem dumps (claircore updater/osv), updaters `osv/<ecosystem>`;
 * `--option osv-ecosystems=pypi,maven` is claircore's allowlist. Rows differ between claircore
 * v1.5.48 and v1.5.54 (aliases; v1.5.48 fails a whole dump holding a Go/npm ECOSYSTEM range),
 * so only v1.5.54 is a build target; the v1.5.48 and HEAD rules exist (`--option osv-rules=…`,
 * rules.ts) and v1.5.48's were checked against the oracle by hand.
 */
export const osv: Feed = {
  id: 'osv',
  description: 'OSV advisories per ecosystem (osv-vulnerabilities bucket all.zip dumps), updaters osv/<ecosystem>',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [ECOSYSTEMS_OPTION]: 'ecosystems, e.g. pypi,maven (default: claircore\'s allowlist)', [RULES_OPTION]: 'rules of another claircore version' },
  targets: ['claircore-v1.5.54'],
  async fetch(ctx) {
    await fetchOsv(ctx);
  },
  parse(ctx) {
    return parseOsv(ctx);
  },
};
