import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StowageError } from '../../src/core/errors.js';
import type { ObjectInfo, Storage } from '../../src/core/types.js';
import { ObjectCache } from '../../src/express/serve/cache/index.js';

const KEYS = 10_000;
const MEMORY_LIMIT = 256 * 1024;
const DISK_LIMIT = 512 * 1024;

/** Deterministic sizes so the run is the same every time. */
function sizeOf(i: number, min: number, spread: number): number {
  return min + ((i * 7919) % spread);
}

async function dirBytes(dir: string): Promise<{ bytes: number; files: string[] }> {
  const files = await readdir(dir);
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dir, f))).size;
  return { bytes, files };
}

/** An origin whose objects are computed from their key: 20,000 objects without 20,000 puts. */
function generatedOrigin(): Storage {
  const objectFor = (key: string): { info: ObjectInfo; data: Buffer } => {
    const match = /^(small|medium)\/(\d+)$/.exec(key);
    if (!match) throw new StowageError('NOT_FOUND', `no object at key "${key}"`);
    const i = Number(match[2]);
    const size = match[1] === 'small' ? sizeOf(i, 40, 200) : sizeOf(i, 600, 2400);
    return { info: { key, size, etag: `"${key}"`, metadata: {} }, data: Buffer.alloc(size, i % 251) };
  };
  const unsupported = async (): Promise<never> => {
    throw new StowageError('NOT_SUPPORTED', 'read-only test origin');
  };
  return {
    name: 'generated',
    capabilities: {} as Storage['capabilities'],
    get: async (key) => {
      const { info, data } = objectFor(key);
      return { info, body: Readable.from([data]) };
    },
    head: async (key) => objectFor(key).info,
    exists: async () => true,
    put: unsupported,
    delete: unsupported,
    copy: unsupported,
    url: unsupported,
    list: () => ({ [Symbol.asyncIterator]: unsupported }) as unknown as AsyncIterable<ObjectInfo>,
  };
}

describe('cache tiers hold their byte bounds over 10,000 distinct keys', () => {
  let scratch: string;
  const origin = generatedOrigin();

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'stowage-bounds-'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('memory tier: bytes never exceed maxBytes, and hits return the right bytes', async () => {
    const cache = new ObjectCache(origin, {
      memory: { maxBytes: MEMORY_LIMIT, maxObjectBytes: 512 },
      disk: false,
      revalidateAfterMs: 60_000,
    });
    let peak = 0;
    for (let batch = 0; batch < KEYS; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const i = batch + j;
          const object = await cache.lookup(`small/${i}`);
          expect(object.tier).toBe('memory');
          if (object.tier === 'memory') {
            expect(object.data.length).toBe(sizeOf(i, 40, 200));
            expect(object.data[0]).toBe(i % 251);
          }
        }),
      );
      peak = Math.max(peak, cache.stats().memory!.bytes);
      expect(cache.stats().memory!.bytes).toBeLessThanOrEqual(MEMORY_LIMIT);
    }
    expect(peak).toBeGreaterThan(MEMORY_LIMIT * 0.8); // the bound was actually reached
    expect(cache.stats().memory!.entries).toBeLessThan(KEYS);
    await cache.close();
  });

  it('disk tier: bytes on disk never exceed maxBytes; no temp files are left', async () => {
    const cache = new ObjectCache(origin, {
      memory: false,
      disk: { dir: scratch, maxBytes: DISK_LIMIT, maxObjectBytes: 8 * 1024 },
      revalidateAfterMs: 60_000,
    });
    const dir = await cache.disk!.dir();
    let peak = 0;
    for (let batch = 0; batch < KEYS; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const object = await cache.lookup(`medium/${batch + j}`);
          expect(['disk', 'origin']).toContain(object.tier);
        }),
      );
      expect(cache.stats().disk!.bytes).toBeLessThanOrEqual(DISK_LIMIT);
      if (batch % 1000 === 0) {
        const { bytes } = await dirBytes(dir);
        expect(bytes).toBeLessThanOrEqual(DISK_LIMIT);
        peak = Math.max(peak, bytes);
      }
    }
    const { bytes, files } = await dirBytes(dir);
    expect(bytes).toBeLessThanOrEqual(DISK_LIMIT);
    expect(bytes).toBe(cache.stats().disk!.bytes);
    expect(files.filter((f) => f.startsWith('tmp-'))).toEqual([]);
    expect(files.length).toBe(cache.stats().disk!.entries);
    expect(peak).toBeGreaterThan(DISK_LIMIT * 0.8);
    await cache.close();
    expect(await readdir(scratch)).toEqual([]);
  });
});
