import { defineConfig } from 'vitest/config';

// The full fault and hostile-input campaign (issue 11): `npm run test:chaos`.
// The normal run (vitest.config.ts) picks up the same files at a small scale.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    env: { CHAOS_SCALE: 'full' },
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
    // One file at a time: the loader lanes, child processes and load tests each want the machine.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
