import { defineConfig } from 'vitest/config';

/** Benchmarks run only on demand: npx vitest run -c bench/serve/vitest.config.ts */
export default defineConfig({
  test: {
    include: ['bench/serve/**/*.bench.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 5 * 60_000,
    fileParallelism: false,
  },
});
