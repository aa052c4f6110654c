import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, fetchAlpine } from './fetch.js';
import { parseAlpine } from './parse.js';
import { RELEASES_OPTION } from './release.js';

/**
 * Alpine secdb (claircore alpine), updaters `alpine-<repo>-<release>-updater`. claircore
 * v1.5.48 and v1.5.54 build the same rows (their alpine packages differ in logging only), so
 * every target is supported. Option `alpine-releases=v3.20,edge` replaces release discovery.
 */
export const alpine: Feed = {
  id: 'alpine',
  description: 'Alpine secdb (main and community per release), updaters alpine-<repo>-<release>-updater; option alpine-releases=v3.20,edge',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [RELEASES_OPTION]: 'releases to fetch/build, e.g. v3.19,v3.20,edge (default: discovered like claircore)' },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchAlpine(ctx);
  },
  parse(ctx) {
    return parseAlpine(ctx);
  },
};
