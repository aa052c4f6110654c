import type { Feed } from '../types.js';
import { DEFAULT_DISTS_URL, DEFAULT_TRACKER_URL, DISTS_PART, TRACKER_PART, fetchDebian } from './fetch.js';
import { parseDebian } from './parse.js';
import { RELEASES_OPTION } from './releases.js';

/**
 * Debian security tracker (claircore debian), the single updater `debian/updater`; the releases
 * come from the archive's `dists/` Release files. Two upstream hosts, so two parts:
 * `debian.tracker` (security-tracker.debian.org) and `debian.dists` (deb.debian.org).
 * claircore v1.5.48 and v1.5.54 build the same rows (their debian updaters differ in logging
 * only), so both targets are supported. Option `debian-releases=bookworm,trixie` replaces the
 * `dists/` listing.
 */
export const debian: Feed = {
  id: 'debian',
  description: 'Debian security tracker JSON + archive Release files, updater debian/updater; option debian-releases=bookworm,trixie',
  parts: { [TRACKER_PART]: DEFAULT_TRACKER_URL, [DISTS_PART]: DEFAULT_DISTS_URL },
  options: { [RELEASES_OPTION]: 'release code names, e.g. bookworm,trixie (default: the dists/ listing)' },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchDebian(ctx);
  },
  parse(ctx) {
    return parseDebian(ctx);
  },
};
