import { TARGETS } from '../../version.js';
import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, fetchRhelMappings } from './fetch.js';
import { parseRhelMappings } from './parse.js';

/** Red Hat's repository-to-cpe.json and container-name-repos-map.json, carried verbatim (same for every target). */
export const rhelMappings: Feed = {
  id: 'rhel-mappings',
  description: 'Red Hat repository→CPE and container name→repositories mappings (indexer side)',
  parts: { [PART]: DEFAULT_BASE_URL },
  targets: TARGETS,
  async fetch(ctx) {
    await fetchRhelMappings(ctx);
  },
  parse(ctx) {
    return parseRhelMappings(ctx);
  },
};
