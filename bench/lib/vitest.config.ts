import { defineConfig } from 'vitest/config';

/** The whole benchmark suite, one command: npm run bench (BENCH_SCALE=smoke|small|full). */
export default defineConfig({
  test: {
    include: ['bench/run.ts'],
    testTimeout: 4 * 60 * 60_000,
    hookTimeout: 10 * 60_000,
    fileParallelism: false,
  },
});
