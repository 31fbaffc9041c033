import { writeFile } from 'node:fs/promises';

/**
 * Hands a benchmark's figures to the orchestrator (bench/run.ts): written as
 * JSON to $BENCH_JSON when it is set; a no-op when a benchmark runs on its own.
 */
export async function reportFigure(data: unknown): Promise<void> {
  const path = process.env.BENCH_JSON;
  if (path) await writeFile(path, JSON.stringify(data, null, 2));
}
