import { mkdir, open, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GetOptions, GetResult } from '../../src/core/types.js';
import { BlobCache } from '../../src/loader/cache.js';
import { artifacts, loadArtifacts, readiness } from '../../src/loader/index.js';
import { type Manifest, serializeManifest } from '../../src/loader/manifest.js';
import { expectCode } from '../helpers/streams.js';
import { CountingStorage } from './counting-storage.js';
import { blob, mountTmpfs, removeDir, tempDir, unmount } from './fixtures.js';

let remoteDir: string;
let appRoot: string;
let cacheDir: string;
let storage: CountingStorage;
let manifest: Manifest;
const weights = blob(700_000);
const vocab = blob(20_000);

beforeEach(async () => {
  remoteDir = await tempDir('stowage-remote-');
  appRoot = await tempDir('stowage-app-');
  cacheDir = await tempDir('stowage-cache-');
  storage = new CountingStorage(remoteDir);
  await storage.put('blobs/weights', weights.data);
  await storage.put('blobs/vocab', vocab.data);
  manifest = {
    version: 1,
    storage: `file:${remoteDir}`,
    files: [
      { path: 'models/x.onnx', key: 'blobs/weights', size: weights.data.length, sha256: weights.sha256 },
      { path: 'data/vocab.txt', key: 'blobs/vocab', size: vocab.data.length, sha256: vocab.sha256 },
    ],
  };
  storage.gets = 0;
  storage.heads = 0;
});

afterEach(async () => {
  await Promise.all([remoteDir, appRoot, cacheDir].map(removeDir));
});

const base = () => ({
  root: appRoot,
  cacheDir,
  storage,
  manifest,
  progressInterval: 0,
  partSize: 128 * 1024,
});

describe('loadArtifacts', () => {
  it('restores every file to its path as a hard link to the verified cache blob', async () => {
    const restored = await loadArtifacts(base());
    expect(restored.map((r) => [r.path, r.source])).toEqual([
      ['models/x.onnx', 'download'],
      ['data/vocab.txt', 'download'],
    ]);
    expect((await readFile(join(appRoot, 'models/x.onnx'))).equals(weights.data)).toBe(true);
    expect((await readFile(join(appRoot, 'data/vocab.txt'))).equals(vocab.data)).toBe(true);
    const target = await stat(join(appRoot, 'models/x.onnx'));
    const cached = await stat(join(cacheDir, 'blobs/sha256', weights.sha256.slice(0, 2), weights.sha256));
    expect(target.ino).toBe(cached.ino);
  });

  it('a second boot costs stats only: no storage request', async () => {
    await loadArtifacts(base());
    storage.gets = 0;
    storage.heads = 0;
    const restored = await loadArtifacts(base());
    expect(restored.every((r) => r.source === 'existing')).toBe(true);
    expect(storage.gets + storage.heads).toBe(0);
  });

  it('a fresh dyno (files gone, cache kept) relinks from the cache without a request', async () => {
    await loadArtifacts(base());
    await removeDir(join(appRoot, 'models'));
    storage.gets = 0;
    const restored = await loadArtifacts(base());
    expect(restored[0]?.source).toBe('cache');
    expect(storage.gets).toBe(0);
  });

  it('one file failing stops the others still downloading and reports at once', async () => {
    // The weights never arrive (a stalled store that only gives up when told to); the vocab is gone.
    class StalledWeights extends CountingStorage {
      override async get(key: string, opts?: GetOptions): Promise<GetResult> {
        if (key !== 'blobs/weights') return super.get(key, opts);
        return new Promise((_, reject) => {
          const signal = opts?.signal;
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
    }
    const stalled = new StalledWeights(remoteDir);
    await stalled.delete('blobs/vocab');
    const err = await expectCode(
      loadArtifacts({ ...base(), storage: stalled, parallelFiles: 2 }),
      'NOT_FOUND',
    );
    expect(err.message).toContain('blobs/vocab');
  });

  it('leaves a correct file alone and replaces a wrong one', async () => {
    await mkdir(join(appRoot, 'models'), { recursive: true });
    await mkdir(join(appRoot, 'data'), { recursive: true });
    await writeFile(join(appRoot, 'models/x.onnx'), weights.data);
    const before = await stat(join(appRoot, 'models/x.onnx'));
    await writeFile(join(appRoot, 'data/vocab.txt'), Buffer.alloc(vocab.data.length, 1));
    const restored = await loadArtifacts(base());
    expect(restored.map((r) => r.source)).toEqual(['existing', 'download']);
    expect((await stat(join(appRoot, 'models/x.onnx'))).ino).toBe(before.ino);
    expect((await readFile(join(appRoot, 'data/vocab.txt'))).equals(vocab.data)).toBe(true);
  });

  it('reads stowage.lock.json under root and the storage URL it names', async () => {
    await writeFile(join(appRoot, 'stowage.lock.json'), serializeManifest(manifest));
    const restored = await loadArtifacts({ root: appRoot, cacheDir, progressInterval: 0 });
    expect(restored).toHaveLength(2);
    expect((await readFile(join(appRoot, 'models/x.onnx'))).equals(weights.data)).toBe(true);
  });

  /** A verified blob left in the cache by an earlier run (not handed out by this process), unused for an hour. */
  async function blobFromEarlierRun(data: Buffer, sha256: string): Promise<string> {
    const cache = new BlobCache(cacheDir);
    const path = cache.blobPath(sha256);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, data);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(path, hourAgo, hourAgo);
    await cache.writeRecord(sha256);
    return path;
  }

  it('maxCacheBytes evicts least recently used blobs that no path links to', async () => {
    const other = blob(300_000);
    const unlinked = await blobFromEarlierRun(other.data, other.sha256);
    // The manifest files are linked into the app; the cap forces the unlinked, unused blob out.
    await loadArtifacts({ ...base(), maxCacheBytes: weights.data.length + vocab.data.length });
    await expect(stat(unlinked)).rejects.toThrow();
    expect((await readFile(join(appRoot, 'models/x.onnx'))).equals(weights.data)).toBe(true);
  });

  it('maxCacheBytes never evicts a path loadModel handed out, even one cached long ago', async () => {
    const old = blob(300_000);
    await storage.put('blobs/old', old.data);
    await blobFromEarlierRun(old.data, old.sha256);
    const { loadModel } = await import('../../src/loader/index.js');
    // A warm hit: the blob's own path, whose times still say "an hour ago".
    const handedOut = await loadModel(
      { storage, key: 'blobs/old' },
      { cacheDir, sha256: old.sha256, progressInterval: 0 },
    );
    await loadArtifacts({ ...base(), maxCacheBytes: weights.data.length + vocab.data.length });
    expect((await readFile(handedOut)).equals(old.data)).toBe(true);
  });

  it('caches under <root>/node_modules/.cache/stowage by default, or STOWAGE_CACHE_DIR', async () => {
    const saved = process.env.STOWAGE_CACHE_DIR;
    try {
      delete process.env.STOWAGE_CACHE_DIR;
      await loadArtifacts({ ...base(), cacheDir: undefined });
      const shard = join(appRoot, 'node_modules/.cache/stowage/blobs/sha256', weights.sha256.slice(0, 2));
      expect(await readdir(shard)).toContain(weights.sha256);
      process.env.STOWAGE_CACHE_DIR = cacheDir;
      await removeDir(join(appRoot, 'models'));
      await loadArtifacts({ ...base(), cacheDir: undefined });
      expect(await readdir(join(cacheDir, 'blobs/sha256', weights.sha256.slice(0, 2)))).toContain(
        weights.sha256,
      );
    } finally {
      if (saved === undefined) delete process.env.STOWAGE_CACHE_DIR;
      else process.env.STOWAGE_CACHE_DIR = saved;
    }
  });

  it('a missing manifest is a clear NOT_FOUND', async () => {
    const err = await expectCode(loadArtifacts({ root: appRoot, cacheDir }), 'NOT_FOUND');
    expect(err.message).toContain('stowage migrate-assets');
  });

  it('a file in place that is not a link into the cache is hashed once, then trusted by its own sidecar', async () => {
    const path = join(appRoot, 'models/x.onnx');
    await mkdir(join(appRoot, 'models'), { recursive: true });
    await writeFile(path, weights.data); // a copy (as across filesystems), not a link
    expect((await loadArtifacts(base()))[0]?.source).toBe('existing');
    // Other bytes, same size and inode, and a sidecar made to match: a warm boot trusts the stat, no re-hash ...
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from([(weights.data[0] ?? 0) ^ 1]), 0, 1, 0);
    await handle.close();
    await new BlobCache(cacheDir).recordPlacedCopy(path, weights.sha256);
    expect((await loadArtifacts(base()))[0]?.source).toBe('existing');
    expect((await readFile(path)).equals(weights.data)).toBe(false);
    // ... verify: 'full' re-hashes and replaces it; and without a matching sidecar the file is hashed anyway.
    expect((await loadArtifacts({ ...base(), verify: 'full' }))[0]?.source).not.toBe('existing');
    expect((await readFile(path)).equals(weights.data)).toBe(true);
    await writeFile(path, Buffer.alloc(weights.data.length, 1));
    expect((await loadArtifacts(base()))[0]?.source).not.toBe('existing');
    expect((await readFile(path)).equals(weights.data)).toBe(true);
  });

  it('copies when the cache is on another filesystem (EXDEV)', async (ctx) => {
    const otherFs = join(cacheDir, 'tmpfs');
    await mkdir(otherFs);
    if (!mountTmpfs(otherFs, '8m')) {
      console.warn('skipped: mounting a tmpfs (for a second filesystem) needs root / CAP_SYS_ADMIN');
      ctx.skip();
      return;
    }
    try {
      await loadArtifacts({ ...base(), cacheDir: otherFs });
      const target = await stat(join(appRoot, 'models/x.onnx'));
      const cached = await stat(join(otherFs, 'blobs/sha256', weights.sha256.slice(0, 2), weights.sha256));
      expect(target.dev).not.toBe(cached.dev);
      expect((await readFile(join(appRoot, 'models/x.onnx'))).equals(weights.data)).toBe(true);
    } finally {
      unmount(otherFs);
    }
  });

  it('a full app disk (copy across filesystems hits ENOSPC): clear error, no temp file left', async (ctx) => {
    const smallRoot = join(cacheDir, 'small-root');
    await mkdir(smallRoot);
    if (!mountTmpfs(smallRoot, '512k')) {
      console.warn('skipped: mounting a tmpfs (a small disk) needs root / CAP_SYS_ADMIN');
      ctx.skip();
      return;
    }
    try {
      const err = await expectCode(loadArtifacts({ ...base(), root: smallRoot }), 'DISK_FULL');
      expect(err.status).toBe(507);
      expect(err.message).toMatch(/no space left on the disk holding .*models\/x\.onnx/);
      expect(await readdir(join(smallRoot, 'models'))).toEqual([]);
    } finally {
      unmount(smallRoot);
    }
  });

  it('a stored object that does not match the manifest: CHECKSUM_MISMATCH and no file at the path', async () => {
    await storage.put('blobs/weights', Buffer.alloc(weights.data.length, 7));
    const err = await expectCode(loadArtifacts(base()), 'CHECKSUM_MISMATCH');
    expect(err.message).toContain('models/x.onnx');
    expect(err.message).toContain(weights.sha256);
    await expect(stat(join(appRoot, 'models/x.onnx'))).rejects.toThrow();
  });

  it('offline: restores from the cache, and names what is missing', async () => {
    await loadArtifacts(base());
    await removeDir(appRoot);
    storage.gets = 0;
    await loadArtifacts({ ...base(), offline: true });
    expect(storage.gets).toBe(0);
    expect((await readFile(join(appRoot, 'data/vocab.txt'))).equals(vocab.data)).toBe(true);
    const empty = await tempDir('stowage-cache-');
    try {
      await removeDir(appRoot);
      const err = await expectCode(loadArtifacts({ ...base(), cacheDir: empty, offline: true }), 'NOT_FOUND');
      expect(err.message).toMatch(/offline.*2 file\(s\).*models\/x\.onnx, data\/vocab\.txt/);
    } finally {
      await removeDir(empty);
    }
  });
});

describe('artifacts() background mode and the readiness middleware', () => {
  async function listen(app: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((r) => server.close(() => r())),
    };
  }

  it('answers 503 with Retry-After and a JSON status until ready, then passes through (Express)', async () => {
    storage.hold();
    const handle = artifacts(base());
    const app = express();
    app.use(handle.middleware({ retryAfter: 3, hold: 0 }));
    app.get('/', (_req, res) => {
      res.send('hello');
    });
    const server = await listen(app);
    try {
      const early = await fetch(server.url);
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('3');
      const body = (await early.json()) as {
        state: string;
        files: { name: string; state: string }[];
        total: number;
      };
      expect(body.state).toBe('loading');
      expect(body.total).toBe(weights.data.length + vocab.data.length);
      expect(body.files.map((f) => f.name)).toEqual(['models/x.onnx', 'data/vocab.txt']);
      expect(handle.isReady()).toBe(false);

      storage.release();
      await handle.ready;
      const status = handle.status();
      expect(status.state).toBe('ready');
      expect(status.bytes).toBe(status.total);
      expect(status.files.every((f) => f.state === 'ready')).toBe(true);
      const late = await fetch(server.url);
      expect(late.status).toBe(200);
      expect(await late.text()).toBe('hello');
    } finally {
      storage.release();
      await server.close();
    }
  });

  it('a finished file keeps the rate it was downloaded at (status() read later reports the same)', async () => {
    const handle = artifacts(base());
    await handle.ready;
    const done = handle.status().files;
    expect(done.every((f) => f.state === 'ready' && f.rate > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(handle.status().files.map((f) => f.rate)).toEqual(done.map((f) => f.rate));
  });

  it('the standalone readiness() works with plain node:http and keeps 503 after a failure', async () => {
    const handle = artifacts({
      ...base(),
      manifest: { ...manifest, files: [{ ...manifest.files[0]!, sha256: vocab.sha256 }] },
    });
    const gate = readiness(handle);
    const server = await listen((req, res) => gate(req, res, () => res.end('ok')));
    try {
      await expect(handle.ready).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      const res = await fetch(server.url);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { state: string; error: string; files: { state: string }[] };
      expect(body.state).toBe('failed');
      expect(body.error).toMatch(/expected \d+ bytes|sha256 mismatch/);
      expect(body.files[0]?.state).toBe('failed');
    } finally {
      await server.close();
    }
  });
});

describe('loadModel from storage sources', () => {
  it('a file: URL whose path is the file, and a { storage, key } pair', async () => {
    const { loadModel } = await import('../../src/loader/index.js');
    const fromUrl = await loadModel(`file:${join(remoteDir, 'blobs', 'vocab')}`, {
      cacheDir,
      sha256: vocab.sha256,
      progressInterval: 0,
    });
    expect((await readFile(fromUrl)).equals(vocab.data)).toBe(true);
    const fromPair = await loadModel({ storage, key: 'blobs/weights' }, { cacheDir, progressInterval: 0 });
    expect((await readFile(fromPair)).equals(weights.data)).toBe(true);
    await expectCode(loadModel({ storage, key: '../escape' }, { cacheDir }), 'INVALID_KEY');
    await expectCode(loadModel({ storage, key: 'blobs/none' }, { cacheDir }), 'NOT_FOUND');
  });

  it('rejects a malformed manifest object with INVALID_ARGUMENT', async () => {
    const bad = {
      ...manifest,
      files: [{ path: '../etc/passwd', key: 'k', size: 1, sha256: weights.sha256 }],
    };
    await expectCode(loadArtifacts({ ...base(), manifest: bad as Manifest }), 'INVALID_KEY');
    await expectCode(
      loadArtifacts({ ...base(), manifest: { version: 2 } as unknown as Manifest }),
      'INVALID_ARGUMENT',
    );
  });
});
