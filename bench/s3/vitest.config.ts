import { defineConfig } from 'vitest/config';

/** Benchmarks run only on demand: npx vitest run -c bench/s3/vitest.config.ts */
export default defineConfig({
  test: {
    include: ['bench/s3/**/*.bench.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 10 * 60_000,
    fileParallelism: false,
  },
});
