import type { Feed } from '../types.js';
import { DEFAULT_BASE_URL, PART, fetchRhelVex } from './fetch.js';
import { parseRhelVex } from './parse.js';
import { BUILD_TARGETS } from './rules.js';
import { IGNORE_KERNEL_OPTION, RULES_OPTION } from './rules.js';

/**
 * Red Hat CSAF/VEX (claircore rhel/vex), updater `rhel-vex`. Rows follow `options.target`
 * (default claircore v1.5.54); the feed option `rhel-vex-rules` overrides it (see rules.ts).
 */
export const rhelVex: Feed = {
  id: 'rhel-vex',
  description: 'Red Hat CSAF/VEX documents (RPM and container content), updater rhel-vex',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [RULES_OPTION]: 'claircore-head: follow claircore main instead of the --target', [IGNORE_KERNEL_OPTION]: 'true: drop kernel packages (claircore main option)' },
  targets: BUILD_TARGETS,
  async fetch(ctx) {
    await fetchRhelVex(ctx);
  },
  parse(ctx) {
    return parseRhelVex(ctx);
  },
};
