import type { Feed } from '../types.js';
import { fetchAws } from './fetch.js';
import { parseAws } from './parse.js';
import { PARTS } from './releases.js';

/**
 * Amazon Linux ALAS (claircore aws), updaters `aws-AL1-updater`, `aws-AL2-updater`,
 * `aws-AL2023-updater`: mirror list → repomd.xml → updateinfo.xml.gz. Two upstream hosts:
 * `aws.cdn` (AL2, AL2023 and their mirrors) and `aws.al1` (AL1's mirror list). claircore
 * v1.5.48 and v1.5.54 build the same rows (their aws packages differ in logging, the matcher and
 * the CPE's spelling in source, which unbinds to the same value).
 */
export const aws: Feed = {
  id: 'aws',
  description: 'Amazon Linux ALAS updateinfo (AL1, AL2, AL2023 via mirror lists), updaters aws-<release>-updater',
  parts: PARTS,
  targets: ['claircore-v1.5.54', 'claircore-v1.5.48'],
  async fetch(ctx) {
    await fetchAws(ctx);
  },
  parse(ctx) {
    return parseAws(ctx);
  },
};
