import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/loader/index.js';
import { type FaultProxy, startFaultProxy } from '../servers/fault-proxy.js';
import { type RangeServer, startHttpRangeServer } from '../servers/http-range-server.js';
import { buildForChildren } from './build-child.js';
import { blob, removeDir, tempDir } from './fixtures.js';

const SIZE = 3 * 1024 * 1024;
const PART = 256 * 1024;
const PARTS = SIZE / PART;

let files: string;
let server: RangeServer;
let proxy: FaultProxy;
let childScript: string;
let buildDir: string;
const model = blob(SIZE);

beforeAll(async () => {
  files = await tempDir();
  await writeFile(join(files, 'model.bin'), model.data);
  server = await startHttpRangeServer(files);
  proxy = await startFaultProxy(server.url);
  ({ script: childScript, dir: buildDir } = await buildForChildren());
});

afterAll(async () => {
  await proxy.stop();
  await server.stop();
  await removeDir(files);
  await removeDir(buildDir);
});

interface ChildResult {
  ok: boolean;
  path?: string;
  code?: string;
  message?: string;
}

function startChild(
  cacheDir: string,
  extra: Record<string, unknown> = {},
): { child: ChildProcess; result: Promise<ChildResult> } {
  const args = {
    source: `${proxy.url}/model.bin`,
    options: { cacheDir, sha256: model.sha256, partSize: PART, concurrency: 2, ...extra },
  };
  const child = spawn(process.execPath, [childScript, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  const result = new Promise<ChildResult>((resolve) => {
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() as string) as ChildResult);
      } catch {
        resolve({ ok: false, message: out });
      }
    });
  });
  return { child, result };
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('loader across processes', () => {
  it('kill -9 mid-download, then a restart resumes from the finished parts and verifies', async () => {
    const cacheDir = await tempDir('stowage-cache-');
    try {
      proxy.resetStats();
      // One part at a time; the 6th response (5th part) stalls forever, so the child hangs mid-file.
      proxy.rules = { fault: (n) => (n === 6 ? { stallAfter: 1000 } : undefined) };
      const { child, result } = startChild(cacheDir, { concurrency: 1 });
      const record = join(cacheDir, 'tmp', `${model.sha256}.part.json`);
      await waitFor(async () => {
        const r = await readFile(record, 'utf8').then(JSON.parse, () => undefined);
        return (r?.done?.length ?? 0) >= 4;
      }, 'four finished parts');
      child.kill('SIGKILL');
      expect((await result).ok).toBe(false);
      expect(await readdir(join(cacheDir, 'locks'))).toHaveLength(1); // the dead process's lock

      proxy.rules = {};
      proxy.resetStats();
      const path = await loadModel(`${proxy.url}/model.bin`, {
        cacheDir,
        sha256: model.sha256,
        partSize: PART,
        progressInterval: 0,
      });
      expect((await readFile(path)).equals(model.data)).toBe(true);
      // The four finished parts were kept: only the rest crossed the wire again.
      expect(proxy.stats.bytes).toBeLessThanOrEqual(SIZE - 4 * PART + 1);
      expect(proxy.stats.requests).toBeLessThanOrEqual(1 + PARTS - 4);
      expect(await readdir(join(cacheDir, 'locks'))).toEqual([]);
      expect(await readdir(join(cacheDir, 'tmp'))).toEqual([]);
    } finally {
      await removeDir(cacheDir);
    }
  });

  it('8 processes at once: one download (bytes counted at the proxy), all get the verified file', async () => {
    const cacheDir = await tempDir('stowage-cache-');
    try {
      proxy.resetStats();
      proxy.rules = { chunkDelayMs: 15 }; // a slow link, so the others really wait on the lock
      const children = Array.from({ length: 8 }, () => startChild(cacheDir));
      const results = await Promise.all(children.map((c) => c.result));
      for (const r of results) expect(r).toMatchObject({ ok: true });
      const paths = new Set(results.map((r) => r.path));
      expect(paths.size).toBe(1);
      expect((await readFile([...paths][0] as string)).equals(model.data)).toBe(true);
      expect(proxy.stats.bytes).toBeGreaterThanOrEqual(SIZE);
      expect(proxy.stats.bytes).toBeLessThanOrEqual(SIZE + 1);
      expect(proxy.stats.requests).toBe(1 + PARTS);
    } finally {
      proxy.rules = {};
      await removeDir(cacheDir);
    }
  });
});
