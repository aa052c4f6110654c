import type { Feed } from '../types.js';
import { fetchPhoton } from './fetch.js';
import { parsePhoton } from './parse.js';
import { DEFAULT_BASE_URL, PART, RELEASES, RELEASES_OPTION } from './upstream.js';

/**
 * VMware Photon OS OVAL (claircore photon), updaters `photon-updater-1.0` … `photon-updater-5.0`.
 * claircore v1.5.48 named them `photon-updater-photon<N>` and had releases 1–3 only, so its
 * rows differ (vuln.updater): only the v1.5.54 target is supported.
 */
export const photon: Feed = {
  id: 'photon',
  description: 'VMware Photon OS OVAL per release (packages.vmware.com), updaters photon-updater-<N>.0',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [RELEASES_OPTION]: `releases to fetch/build, e.g. 4.0,5.0 (fetch default: ${RELEASES.join(',')}, as claircore; build default: those fetched)` },
  targets: ['claircore-v1.5.54'],
  async fetch(ctx) {
    await fetchPhoton(ctx);
  },
  parse(ctx) {
    return parsePhoton(ctx);
  },
};
