import type { Feed } from '../types.js';
import { fetchSuse } from './fetch.js';
import { parseSuse } from './parse.js';
import { DEFAULT_BASE_URL, PART, RELEASES_OPTION } from './upstream.js';

/**
 * SUSE OVAL (claircore suse), updaters `suse-updater-<pretty name>` for the SLES and openSUSE
 * Leap (>= 15.5) files the OVAL directory page links to. claircore v1.5.48 and v1.5.54 build
 * the same rows (their suse and ovalutil code differ in logging and refactoring only).
 */
export const suse: Feed = {
  id: 'suse',
  description: 'SUSE OVAL (ftp.suse.com directory page → SLES NN and openSUSE Leap >= 15.5), updaters suse-updater-<release>',
  parts: { [PART]: DEFAULT_BASE_URL },
  options: { [RELEASES_OPTION]: 'updaters to fetch/build, e.g. suse.linux.enterprise.server.15,opensuse.leap.15.6 (fetch default: every one the directory page links, as claircore; build default: those fetched)' },
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchSuse(ctx);
  },
  parse(ctx) {
    return parseSuse(ctx);
  },
};
