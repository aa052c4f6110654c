import type { Feed } from '../types.js';
import { fetchUbuntu } from './fetch.js';
import { parseUbuntu } from './parse.js';
import { DEFAULT_LAUNCHPAD_URL, DEFAULT_OVAL_URL, LAUNCHPAD_PART, OVAL_PART } from './upstream.js';
import { RELEASES_OPTION } from './upstream.js';

/**
 * Ubuntu CVE OVAL (claircore ubuntu), updaters `ubuntu/updater/<codename>`. The rows are the
 * same for claircore v1.5.48 and v1.5.54 (their ubuntu and ovalutil code differ only in logging).
 * Option `ubuntu-releases=jammy,noble` picks series (default: every active Launchpad series).
 */
export const ubuntu: Feed = {
  id: 'ubuntu',
  description: 'Ubuntu CVE OVAL per active series (Launchpad series list + security-metadata.canonical.com), updaters ubuntu/updater/<codename>',
  parts: { [LAUNCHPAD_PART]: DEFAULT_LAUNCHPAD_URL, [OVAL_PART]: DEFAULT_OVAL_URL },
  options: { [RELEASES_OPTION]: 'series, e.g. jammy,noble (default: active series from Launchpad)' },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchUbuntu(ctx);
  },
  parse(ctx) {
    return parseUbuntu(ctx);
  },
};
