import type { Feed } from './types.js';

/** Every feed, one line each. */
export const feeds: readonly Feed[] = [
];

export function feedById(id: string): Feed | undefined {
  return feeds.find((f) => f.id === id);
}
