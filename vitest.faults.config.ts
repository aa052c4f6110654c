import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the fault-injection suite (test/faults, README "Reliability and
 * security"): kill -9 at every phase, connection faults through a proxy, concurrency, a bad-input
 * corpus, credentials, least privilege, signatures. Prints a figures table at the end.
 */
export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/helpers/tmp-root.ts', 'test/faults/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    minWorkers: 1,
    silent: false,
  },
});
