import { randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/loader/index.js';
import { setWorkerThreshold } from '../../src/loader/ordered-hasher.js';
import { expectCode } from '../helpers/streams.js';
import { type FaultProxy, startFaultProxy } from '../servers/fault-proxy.js';
import { type RangeServer, startHttpRangeServer } from '../servers/http-range-server.js';
import {
  blob,
  captureLogs,
  mountTmpfs,
  removeDir,
  replaceFile,
  sha256,
  tempDir,
  unmount,
} from './fixtures.js';

const SIZE = 3 * 1024 * 1024 + 12_345; // several parts, last one short
const PART = 256 * 1024;

let files: string;
let server: RangeServer;
let proxy: FaultProxy;
let cacheDir: string;
const model = blob(SIZE);

beforeAll(async () => {
  files = await tempDir();
  await writeFile(join(files, 'model.bin'), model.data);
  server = await startHttpRangeServer(files);
  proxy = await startFaultProxy(server.url);
});

afterAll(async () => {
  await proxy.stop();
  await server.stop();
  await removeDir(files);
});

beforeEach(async () => {
  cacheDir = await tempDir('stowage-cache-');
  proxy.rules = {};
  proxy.resetStats();
});

afterEach(async () => {
  await removeDir(cacheDir);
});

const url = () => `${proxy.url}/model.bin`;
const opts = (extra: Record<string, unknown> = {}) => ({
  cacheDir,
  partSize: PART,
  concurrency: 4,
  progressInterval: 0,
  ...extra,
});

async function leftovers(): Promise<string[]> {
  const tmp = await readdir(join(cacheDir, 'tmp')).catch(() => [] as string[]);
  const locks = await readdir(join(cacheDir, 'locks')).catch(() => [] as string[]);
  return [...tmp, ...locks];
}

describe('loadModel from an http(s) URL', () => {
  it('cold: downloads in parallel ranges, verifies, and returns the cached blob path', async () => {
    const path = await loadModel(url(), opts({ sha256: model.sha256 }));
    expect(path).toBe(join(cacheDir, 'blobs', 'sha256', model.sha256.slice(0, 2), model.sha256));
    expect((await readFile(path)).equals(model.data)).toBe(true);
    // One probe plus one request per part.
    expect(proxy.stats.requests).toBe(1 + Math.ceil(SIZE / PART));
    expect(await leftovers()).toEqual([]);
  });

  it('hashes on a worker thread for big files (threshold lowered), same result', async () => {
    setWorkerThreshold(1);
    try {
      proxy.rules.fault = (n) => (n === 4 ? { resetAfter: 5000 } : undefined);
      const path = await loadModel(url(), opts({ sha256: model.sha256 }));
      expect((await readFile(path)).equals(model.data)).toBe(true);
      await removeDir(cacheDir);
      proxy.rules.flipByteAt = 2_000_000;
      await expectCode(loadModel(url(), opts({ sha256: model.sha256 })), 'CHECKSUM_MISMATCH');
    } finally {
      setWorkerThreshold(32 * 1024 * 1024);
    }
  });

  it('warm with a known sha256: zero requests at the proxy', async () => {
    await loadModel(url(), opts({ sha256: model.sha256 }));
    proxy.resetStats();
    const path = await loadModel(url(), opts({ sha256: model.sha256 }));
    expect(proxy.stats.requests).toBe(0);
    expect((await readFile(path)).equals(model.data)).toBe(true);
  });

  it("verify: 'full' re-hashes a warm blob and replaces one damaged on disk", async () => {
    const path = await loadModel(url(), opts({ sha256: model.sha256 }));
    const damaged = Buffer.from(model.data);
    damaged[10] = (damaged[10] as number) ^ 1;
    await writeFile(path, damaged); // same inode, new mtime: the stat check alone would also notice
    proxy.resetStats();
    await loadModel(url(), opts({ sha256: model.sha256, verify: 'full' }));
    expect(proxy.stats.requests).toBeGreaterThan(0);
    expect((await readFile(path)).equals(model.data)).toBe(true);
  });

  it('a flipped byte: retried once, then CHECKSUM_MISMATCH naming both digests, and no file left', async () => {
    proxy.rules.flipByteAt = 1_000_000;
    const err = await expectCode(loadModel(url(), opts({ sha256: model.sha256 })), 'CHECKSUM_MISMATCH');
    expect(err.message).toContain(model.sha256);
    expect(err.message).toMatch(/got [0-9a-f]{64}/);
    expect(err.message).toContain('/model.bin');
    // Two complete downloads (probe + parts each time).
    expect(proxy.stats.requests).toBe(2 * (1 + Math.ceil(SIZE / PART)));
    await expect(
      stat(join(cacheDir, 'blobs', 'sha256', model.sha256.slice(0, 2), model.sha256)),
    ).rejects.toThrow();
    expect(await leftovers()).toEqual([]);
  });

  it('connections reset at random offsets: every part resumes and the file verifies', async () => {
    let resets = 0;
    proxy.rules.fault = (n) => {
      if (n === 1 || resets >= 12 || Math.random() < 0.4) return undefined;
      resets++;
      return { resetAfter: Math.floor(Math.random() * PART) };
    };
    const path = await loadModel(url(), opts({ sha256: model.sha256, retries: 3 }));
    expect(resets).toBeGreaterThan(0);
    expect((await readFile(path)).equals(model.data)).toBe(true);
    // Resumed parts continue where they broke: far less than a second full copy.
    expect(proxy.stats.bytes).toBeLessThan(SIZE * 1.5);
  });

  it('connections dropped mid-body until retries run out: UNAVAILABLE, retryable, the cause kept', async () => {
    proxy.rules.fault = (n) => (n === 1 ? undefined : { resetAfter: 100_000 });
    const err = await expectCode(loadModel(url(), opts({ sha256: model.sha256, retries: 0 })), 'UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('/model.bin');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('a server that stalls every response a little further on: minRate fails the file, naming it and the bound', async () => {
    // Each response brings 2,000 bytes and goes silent: progress every time, so the retries never run out.
    proxy.rules.fault = (n) => (n === 1 ? undefined : { stallAfter: 2_000 });
    const err = await expectCode(
      loadModel(
        url(),
        opts({ sha256: model.sha256, stallTimeout: 100, minRate: 256 * 1024, minRateWindow: 1_000 }),
      ),
      'UNAVAILABLE',
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/\/model\.bin: only .* arrived in the last 1 s, below minRate 262 kB\/s/);
    // Far from done, in many small responses.
    expect(proxy.stats.bytes).toBeLessThan(SIZE / 4);
    expect(proxy.stats.requests).toBeGreaterThan(4);
    expect(proxy.stats.bytes).toBeLessThanOrEqual(1 + (proxy.stats.requests - 1) * 2_000);
  });

  it('answers 500 and 503 a few times: retried with backoff', async () => {
    proxy.rules.failNext = { status: 503, count: 2 };
    const path = await loadModel(url(), opts({ sha256: model.sha256 }));
    expect((await readFile(path)).equals(model.data)).toBe(true);
    expect(proxy.stats.statuses.filter((s) => s === 503)).toHaveLength(2);
    await removeDir(cacheDir);
    proxy.rules.failNext = { status: 500, count: 1 };
    await loadModel(url(), opts({ sha256: model.sha256 }));
  });

  it('gives up with UNAVAILABLE when the server keeps failing', async () => {
    proxy.rules.failNext = { status: 500, count: 1_000 };
    const err = await expectCode(loadModel(url(), opts({ sha256: model.sha256, retries: 1 })), 'UNAVAILABLE');
    expect(err.message).toContain('HTTP 500');
  });

  it('a stalled connection is dropped after stallTimeout and the part retried', async () => {
    proxy.rules.fault = (n) => (n === 3 ? { stallAfter: 1000 } : undefined);
    const path = await loadModel(url(), opts({ sha256: model.sha256, stallTimeout: 300 }));
    expect((await readFile(path)).equals(model.data)).toBe(true);
  });

  it('follows a redirect (a model hub to its CDN), asks the CDN directly after, and keeps credentials home', async () => {
    const seen: IncomingHttpHeaders[] = [];
    // The hub answers 302 to a signed CDN URL on another origin (the fault proxy in front of the range server).
    const hub = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(302, { location: `${proxy.url}/model.bin?X-Amz-Signature=deadbeef` }).end();
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    const hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/org/model/resolve/main/model.bin`;
    const logs = captureLogs();
    try {
      const path = await loadModel(
        hubUrl,
        opts({ sha256: model.sha256, headers: { authorization: 'Bearer hub-token' } }),
      );
      expect((await readFile(path)).equals(model.data)).toBe(true);
      // One redirect for the probe; every part then goes straight to the CDN.
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toBe('Bearer hub-token');
      expect(proxy.stats.requests).toBe(1 + Math.ceil(SIZE / PART));
      expect(logs.lines.join('\n')).not.toContain('deadbeef');
    } finally {
      logs.restore();
      hub.close();
    }
  });

  it('refuses a redirect loop with a clear error', async () => {
    const loop = createServer((req, res) => res.writeHead(302, { location: req.url ?? '/' }).end());
    await new Promise<void>((r) => loop.listen(0, '127.0.0.1', r));
    try {
      const err = await expectCode(
        loadModel(`http://127.0.0.1:${(loop.address() as AddressInfo).port}/m.bin`, opts({ retries: 0 })),
        'UNAVAILABLE',
      );
      expect(err.message).toContain('redirects');
    } finally {
      loop.close();
    }
  });

  it('a server that ignores Range: detected, and the object streamed in one request', async () => {
    proxy.rules.ignoreRange = true;
    const path = await loadModel(url(), opts({ sha256: model.sha256 }));
    expect((await readFile(path)).equals(model.data)).toBe(true);
    expect(proxy.stats.requests).toBe(2); // probe (answered 200) + one full GET
  });

  it('the object replaced mid-download: restarts on the new version, never a mixed file', async () => {
    const other = blob(SIZE);
    const file = join(files, 'swap.bin');
    await writeFile(file, model.data);
    await writeFile(`${file}.next`, other.data);
    proxy.rules.fault = (n) => {
      // Response 3 (the second part) still streams the old version; later parts see the new one.
      if (n === 3) renameSync(`${file}.next`, file);
      return undefined;
    };
    const logs = captureLogs();
    try {
      const path = await loadModel(`${proxy.url}/swap.bin`, opts({ concurrency: 1 }));
      const got = await readFile(path);
      expect(got.equals(other.data)).toBe(true);
      expect(logs.lines.some((l) => l.includes('changed during the download'))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it('without a sha256: keyed by URL + ETag; a warm hit costs one small probe; a new version is fetched', async () => {
    const file = join(files, 'nosha.bin');
    const first = blob(300_000);
    await writeFile(file, first.data);
    const signed = `${proxy.url}/nosha.bin?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIAXXXX`;
    const a = await loadModel(signed, opts());
    expect((await readFile(a)).equals(first.data)).toBe(true);
    proxy.resetStats();
    const b = await loadModel(`${proxy.url}/nosha.bin?X-Amz-Signature=other`, opts());
    expect(b).toBe(a);
    expect(proxy.stats.requests).toBe(1);
    expect(proxy.stats.bytes).toBeLessThanOrEqual(1);
    const second = blob(300_000);
    await replaceFile(file, second.data);
    const c = await loadModel(signed, opts());
    expect((await readFile(c)).equals(second.data)).toBe(true);
  });

  it('progress lines are plain text with bytes, percent, rate and ETA, and never show a signature', async () => {
    const logs = captureLogs();
    let updates = 0;
    try {
      await loadModel(`${proxy.url}/model.bin?X-Amz-Signature=s3cr3tsignature`, {
        ...opts({ sha256: model.sha256, progressInterval: 1 }),
        onProgress: () => {
          updates++;
        },
      });
    } finally {
      logs.restore();
    }
    expect(updates).toBeGreaterThan(1);
    const text = logs.lines.join('\n');
    expect(text).not.toContain('s3cr3tsignature');
    expect(text).toMatch(/model\.bin: downloading 3\.2 MB from http:\/\/127\.0\.0\.1:\d+\/model\.bin\n/);
    expect(text).toMatch(/model\.bin: ready, 3\.2 MB in [\d.]+ s \([\d.]+ [kMG]?B\/s\), sha256 verified/);
  });

  it('offline: served from the cache without a request, a clear NOT_FOUND when missing', async () => {
    await expectCode(loadModel(url(), opts({ sha256: model.sha256, offline: true })), 'NOT_FOUND').then(
      (err) => expect(err.message).toMatch(/offline mode.*not in the cache/),
    );
    expect(proxy.stats.requests).toBe(0);
    await loadModel(url(), opts({ sha256: model.sha256 }));
    proxy.resetStats();
    const path = await loadModel(url(), opts({ sha256: model.sha256, offline: true }));
    expect((await readFile(path)).equals(model.data)).toBe(true);
    // Without a sha256 the last resolved version is used, still without a request.
    await loadModel(`${proxy.url}/model.bin?v=1`, opts());
    proxy.resetStats();
    await loadModel(`${proxy.url}/model.bin?v=1`, opts({ offline: true }));
    expect(proxy.stats.requests).toBe(0);
  });

  it('a size that disagrees with the source fails before downloading', async () => {
    const err = await expectCode(
      loadModel(url(), opts({ sha256: model.sha256, size: 5 })),
      'CHECKSUM_MISMATCH',
    );
    expect(err.message).toContain(`expected 5 bytes`);
    expect(proxy.stats.requests).toBe(1);
  });

  it('the free-space check fails before downloading, with a clear message and no leftovers', async () => {
    const err = await expectCode(
      loadModel(url(), opts({ sha256: model.sha256, reserveBytes: Number.MAX_SAFE_INTEGER })),
      'DISK_FULL',
    );
    expect(err.status).toBe(507);
    expect(err.message).toMatch(/not enough disk space for .*model\.bin.*STOWAGE_CACHE_DIR/);
    expect(proxy.stats.requests).toBe(1);
    expect(await leftovers()).toEqual([]);
  });

  it('a full disk (a 1 MiB tmpfs as cache): clear error and no leftovers', async (ctx) => {
    const mount = join(cacheDir, 'small');
    await mkdir(mount);
    if (!mountTmpfs(mount, '1m')) {
      console.warn(
        'skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN); the reserveBytes test covers the check',
      );
      ctx.skip();
      return;
    }
    try {
      const err = await expectCode(
        loadModel(url(), opts({ sha256: model.sha256, cacheDir: mount })),
        'DISK_FULL',
      );
      expect(err.status).toBe(507);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/disk space|no space left/);
      expect(await readdir(join(mount, 'tmp'))).toEqual([]);
      expect(await readdir(join(mount, 'locks'))).toEqual([]);
    } finally {
      unmount(mount);
    }
  });

  it('an abort signal stops the download with ABORTED', async () => {
    const controller = new AbortController();
    proxy.rules.fault = (n) => (n === 2 ? { stallAfter: 10 } : undefined);
    setTimeout(() => controller.abort(), 200);
    await expectCode(loadModel(url(), opts({ sha256: model.sha256, signal: controller.signal })), 'ABORTED');
  });

  it('an empty object loads as an empty file', async () => {
    await writeFile(join(files, 'empty.bin'), '');
    const empty = sha256(Buffer.alloc(0));
    const path = await loadModel(`${proxy.url}/empty.bin`, opts({ sha256: empty }));
    expect((await readFile(path)).length).toBe(0);
  });

  it('sweeps temp files left by crashed runs (and day-old partials) at start', async () => {
    const tmp = join(cacheDir, 'tmp');
    await mkdir(tmp, { recursive: true });
    const old = new Date(Date.now() - 2 * 24 * 3_600_000);
    const leftoverTemp = join(tmp, 'x.json.stowage-tmp-1234');
    const abandoned = join(tmp, `${'e'.repeat(64)}.part`);
    const fresh = join(tmp, 'y.json.stowage-tmp-5678');
    for (const file of [leftoverTemp, abandoned, fresh]) await writeFile(file, 'x');
    await utimes(leftoverTemp, old, old);
    await utimes(abandoned, old, old);
    await loadModel(url(), opts({ sha256: model.sha256 }));
    // A young temp may belong to a live writer in another process: it stays.
    expect((await readdir(tmp)).sort()).toEqual(['y.json.stowage-tmp-5678']);
  });

  it("the lock holder removes its blob's temp files left by a killed writer, however young; others stay", async () => {
    const tmp = join(cacheDir, 'tmp');
    await mkdir(tmp, { recursive: true });
    // What kill -9 during the part record's atomic write leaves (temp name as in writeFileAtomic).
    const crashed = join(tmp, `${model.sha256}.part.json.stowage-tmp-${randomUUID()}`);
    const othersTemp = `${'f'.repeat(64)}.part.json.stowage-tmp-${randomUUID()}`;
    await writeFile(crashed, '{"v":1,"size":');
    await writeFile(join(tmp, othersTemp), '{"v":1,"size":');
    // The blob's sidecar is also rewritten outside the lock: only an old temp of it is a dead writer's.
    const shard = join(cacheDir, 'blobs', 'sha256', model.sha256.slice(0, 2));
    await mkdir(shard, { recursive: true });
    const sidecarTemp = join(shard, `${model.sha256}.json.stowage-tmp-${randomUUID()}`);
    await writeFile(sidecarTemp, '{"v":1');
    const old = new Date(Date.now() - 60_000);
    await utimes(sidecarTemp, old, old);
    const path = await loadModel(url(), opts({ sha256: model.sha256 }));
    expect((await readFile(path)).equals(model.data)).toBe(true);
    expect(await readdir(tmp)).toEqual([othersTemp]);
    expect((await readdir(shard)).sort()).toEqual([model.sha256, `${model.sha256}.json`]);
  });

  it('rejects bad arguments with INVALID_ARGUMENT naming the option', async () => {
    await expectCode(loadModel(url(), opts({ sha256: 'nope' })), 'INVALID_ARGUMENT');
    await expectCode(loadModel(url(), opts({ verify: 'sometimes' })), 'INVALID_ARGUMENT');
    await expectCode(loadModel(42 as never, opts()), 'INVALID_ARGUMENT');
    await expectCode(loadModel('ftp://x/y', opts()), 'INVALID_ARGUMENT');
    await expectCode(loadModel(url(), opts({ concurrency: 0 })), 'INVALID_ARGUMENT');
    await expectCode(loadModel(url(), opts({ minRate: -1 })), 'INVALID_ARGUMENT');
    // Longer than a timer can wait (it would fire at once).
    await expectCode(loadModel(url(), opts({ minRateWindow: 2 ** 31 })), 'INVALID_ARGUMENT');
    await expectCode(loadModel(url(), opts({ stallTimeout: 2 ** 31 })), 'INVALID_ARGUMENT');
  });

  it('NOT_FOUND for a missing URL, without retries', async () => {
    await expectCode(loadModel(`${proxy.url}/missing.bin`, opts()), 'NOT_FOUND');
    expect(proxy.stats.requests).toBe(1);
  });
});
