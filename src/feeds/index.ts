import { alpine } from './alpine/index.js';
import { debian } from './debian/index.js';
import { rhelMappings } from './rhel-mappings/index.js';
import { rhelVex } from './rhel-vex/index.js';
import { osv } from './osv/index.js';
import { ubuntu } from './ubuntu/index.js';
import { oracle } from './oracle/index.js';
import { photon } from './photon/index.js';
import { suse } from './suse/index.js';
import { aws } from './aws/index.js';
import { cvss } from './cvss/index.js';
import { epss } from './epss/index.js';
import { kev } from './kev/index.js';
import type { Feed } from './types.js';

/** Every feed, one line each. */
export const feeds: readonly Feed[] = [
  rhelVex,
  rhelMappings,
  alpine,
  debian,
  ubuntu,
  osv,
  suse,
  oracle,
  photon,
  aws,
  cvss,
  epss,
  kev,
];

export function feedById(id: string): Feed | undefined {
  return feeds.find((f) => f.id === id);
}
