import { defineConfig } from 'vitest/config';

/**
 * `npm run conformance`: compares clair-bundle with claircore itself (test/oracle), schema and
 * data, on a throwaway PostgreSQL. Separate from vitest.config.ts so `npm test` does not run it.
 */
export default defineConfig({
  test: {
    name: 'conformance',
    include: ['test/conformance/**/*.test.ts'],
    globalSetup: ['test/conformance/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    minWorkers: 1,
    // Reports are printed with console.log; show them for passing tests too.
    silent: false,
  },
});
