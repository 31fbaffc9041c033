import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real servers and real disks: keep parallelism modest on 2-core machines.
    maxWorkers: 2,
  },
});
