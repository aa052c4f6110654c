import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, fetchKev } from './fetch.js';
import { parseKev } from './parse.js';

/**
 * CISA Known Exploited Vulnerabilities enrichment (claircore enricher/kev), updater
 * `clair.kev`, kind enrichment. Not registered by Clair (claircore exports a factory for
 * embedders), so off unless `--source kev` asks for it. claircore v1.5.48 and v1.5.54 differ in
 * logging only.
 */
export const kev: Feed = {
  id: 'kev',
  description: 'CISA Known Exploited Vulnerabilities catalog → updater clair.kev (enrichment)',
  parts: { [PART]: DEFAULT_BASE_URL },
  optIn: true,
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchKev(ctx);
  },
  parse(ctx) {
    return parseKev(ctx);
  },
};
