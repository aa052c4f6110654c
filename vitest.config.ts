import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/helpers/tmp-root.ts'], testTimeout: 60_000 },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/tmp-root.ts', 'test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Each file gets its own databases; a few files at a time on 2 cores.
          maxWorkers: 2,
          minWorkers: 1,
        },
      },
    ],
  },
});
