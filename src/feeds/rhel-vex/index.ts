import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, fetchRhelVex } from './fetch.js';
import { parseRhelVex } from './parse.js';

/**
 * Red Hat CSAF/VEX (claircore rhel/vex), updater `rhel-vex`. Rows follow claircore v1.5.54
 * unless the feed option `rhel-vex-rules` selects another target (see rules.ts).
 */
export const rhelVex: Feed = {
  id: 'rhel-vex',
  description: 'Red Hat CSAF/VEX documents (RPM and container content), updater rhel-vex',
  parts: { [PART]: DEFAULT_BASE_URL },
  targets: ['claircore-v1.5.54'],
  async fetch(ctx) {
    await fetchRhelVex(ctx);
  },
  parse(ctx) {
    return parseRhelVex(ctx);
  },
};
