import { rhelMappings } from './rhel-mappings/index.js';
import { rhelVex } from './rhel-vex/index.js';
import type { Feed } from './types.js';

/** Every feed, one line each. */
export const feeds: readonly Feed[] = [
  rhelVex,
  rhelMappings,
];

export function feedById(id: string): Feed | undefined {
  return feeds.find((f) => f.id === id);
}
