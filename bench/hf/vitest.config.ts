import { defineConfig } from 'vitest/config';

/** Benchmarks run only on demand: npx vitest run -c bench/hf/vitest.config.ts */
export default defineConfig({
  test: {
    include: ['bench/hf/**/*.bench.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 10 * 60_000,
    fileParallelism: false,
  },
});
