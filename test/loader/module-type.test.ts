import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RangeServer, startHttpRangeServer } from '../servers/http-range-server.js';
import { buildForChildren } from './build-child.js';
import { blob, removeDir, tempDir } from './fixtures.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..', '..');
const model = blob(1024 * 1024 + 77);

let files: string;
let cacheDir: string;
let server: RangeServer;
let buildDir: string;
let library: string;

beforeAll(async () => {
  files = await tempDir();
  cacheDir = await tempDir('stowage-cache-');
  await writeFile(join(files, 'model.bin'), model.data);
  server = await startHttpRangeServer(files);
  ({ script: library, dir: buildDir } = await buildForChildren(join(REPO, 'src', 'loader', 'index.ts')));
});

afterAll(async () => {
  await server.stop();
  await Promise.all([files, cacheDir, buildDir].map(removeDir));
});

describe('the loader under the parent process module type', () => {
  it('node --input-type=module -e: a ranged download hashed on the worker thread verifies', async () => {
    const hasher = pathToFileURL(join(buildDir, 'src', 'loader', 'ordered-hasher.js')).href;
    const options = { cacheDir, sha256: model.sha256, partSize: 128 * 1024, progressInterval: 0 };
    // Eval'd ESM, as `node --input-type=module -e` or a bundler's ESM entry runs it.
    const code = `
      import { loadModel } from ${JSON.stringify(pathToFileURL(library).href)};
      import { setWorkerThreshold } from ${JSON.stringify(hasher)};
      setWorkerThreshold(1);
      const path = await loadModel(${JSON.stringify(`${server.url}/model.bin`)}, ${JSON.stringify(options)});
      process.stdout.write('\\n' + JSON.stringify({ path }) + '\\n');
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code]);
    // Log lines come first; the result is the last line.
    const { path } = JSON.parse(stdout.trim().split('\n').pop() as string) as { path: string };
    expect((await readFile(path)).equals(model.data)).toBe(true);
  });
});
