// Child process for the multi-process tests: loads one source and prints the result as JSON.
import { loadModel } from '../../src/loader/index.js';
import { setLogger } from '../../src/util/log.js';

// Keep stdout for the one JSON result line.
setLogger({ info: (m) => console.error(m), warn: (m) => console.error(m) });

const args = JSON.parse(process.argv[2] ?? '{}') as {
  source: string;
  options: Record<string, unknown>;
};
try {
  const path = await loadModel(args.source, { ...args.options, progressInterval: 0 });
  process.stdout.write(`${JSON.stringify({ ok: true, path })}\n`);
} catch (err) {
  process.stdout.write(
    `${JSON.stringify({ ok: false, code: (err as { code?: string }).code, message: (err as Error).message })}\n`,
  );
  process.exitCode = 1;
}
