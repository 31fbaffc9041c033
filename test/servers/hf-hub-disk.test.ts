import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/loader/index.js';
import { blob, removeDir, tempDir } from '../loader/fixtures.js';
import { type HfHubEmulator, startHfHub } from './hf-hub.js';

// Disk-backed LFS files (what the 1 GiB benchmark serves): streamed from the file per request.
const run = promisify(execFile);
const weights = blob(3 * 1024 * 1024 + 5);
let hub: HfHubEmulator;
let dir: string;
let commit: string;

beforeAll(async () => {
  dir = await tempDir('stowage-hf-disk-');
  const file = join(dir, 'served.bin');
  await writeFile(file, weights.data);
  hub = await startHfHub();
  commit = hub.addRepo('acme/disk', [
    { path: 'model.bin', file, size: weights.data.length, sha256: weights.sha256 },
  ]);
});

afterAll(async () => {
  await hub?.stop();
  await removeDir(dir);
});

const PY = `
import sys
from huggingface_hub import hf_hub_download
print(hf_hub_download("acme/disk", "model.bin", revision=sys.argv[1], cache_dir=sys.argv[2], token=False))
`;

describe('hub emulator serving a file from disk', () => {
  it('huggingface_hub downloads it byte for byte through the CDN', async () => {
    hub.resetLog();
    const { stdout } = await run('python3', ['-c', PY, commit, join(dir, 'py')], {
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING_FACE_)/.test(k))),
        HF_HOME: join(dir, 'home'),
        HF_ENDPOINT: hub.url,
        HF_HUB_DISABLE_TELEMETRY: '1',
        HF_HUB_DISABLE_XET: '1',
        HF_HUB_DISABLE_PROGRESS_BARS: '1',
      },
    });
    const path = stdout.trim().split('\n').pop() as string;
    expect((await readFile(path)).equals(weights.data)).toBe(true);
    expect(hub.log.some((r) => r.server === 'cdn' && r.method === 'GET' && r.status === 200)).toBe(true);
  });

  it('serves byte ranges of it (stowage loads it in parts, verified)', async () => {
    hub.resetLog();
    const path = await loadModel(`hf://acme/disk@${commit}/model.bin`, {
      cacheDir: join(dir, 'cache'),
      hfEndpoint: hub.url,
      partSize: 1024 * 1024,
      progressInterval: 0,
    });
    expect((await readFile(path)).equals(weights.data)).toBe(true);
    const ranges = hub.log.filter((r) => r.server === 'cdn' && r.status === 206);
    expect(ranges.length).toBe(4);
  });
});
