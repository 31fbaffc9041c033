/**
 * Runs one of the standalone benchmarks (bench/<name>/vitest.config.ts) as a
 * child vitest process with the scale's sizes in its environment, and reads
 * the figures it reports through $BENCH_JSON (bench/lib/report.ts).
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ChildBench<T> {
  /** The exact command, to print next to its figures. */
  command: string;
  figure: T | undefined;
  /** Why there is no figure (exit code and the end of its output). */
  error?: string;
  ms: number;
}

export async function runChildBench<T>(
  root: string,
  name: string,
  vars: Record<string, string | number>,
  workDir: string,
): Promise<ChildBench<T>> {
  const config = `bench/${name}/vitest.config.ts`;
  const command = `${Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')} npx vitest run -c ${config}`.trim();
  const json = join(workDir, `${name}.json`);
  await rm(json, { force: true });
  // The orchestrator itself runs under vitest: keep its worker variables out of the child.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_ENV'),
  );
  for (const [k, v] of Object.entries(vars)) env[k] = String(v);
  env.BENCH_JSON = json;
  const start = performance.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(join(root, 'node_modules/.bin/vitest'), ['run', '-c', config], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: String(err) }));
    child.on('close', (code) => resolve({ code, output }));
  });
  const ms = performance.now() - start;
  await writeFile(join(workDir, `${name}.log`), output);
  let figure: T | undefined;
  try {
    figure = JSON.parse(await readFile(json, 'utf8')) as T;
  } catch {
    figure = undefined;
  }
  if (code === 0 && figure) return { command, figure, ms };
  const skipped = /skipped: (.*)/.exec(output)?.[1];
  return {
    command,
    figure,
    ms,
    error: skipped ?? `exit ${code}: ${output.trim().split('\n').slice(-6).join(' / ').slice(0, 600)}`,
  };
}
