import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, fetchEpss } from './fetch.js';
import { parseEpss } from './parse.js';

/**
 * EPSS scores enrichment (claircore enricher/epss), updater `clair.epss`, kind enrichment.
 * claircore exports it only as a factory for embedders (Clair does not register it), so it is
 * off unless `--source epss` asks for it. claircore v1.5.48 and v1.5.54 differ in logging only.
 */
export const epss: Feed = {
  id: 'epss',
  description: 'FIRST EPSS daily scores (epss_scores-<yesterday>.csv.gz, or --url epss=<file>.gz) → updater clair.epss (enrichment)',
  parts: { [PART]: DEFAULT_BASE_URL },
  optIn: true,
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchEpss(ctx);
  },
  parse(ctx) {
    return parseEpss(ctx);
  },
};
