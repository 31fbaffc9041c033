import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { StowageError } from '../../src/core/errors.js';
import { ObjectCache, sameVersion } from '../../src/express/serve/cache/index.js';
import { setLogger } from '../../src/util/log.js';
import { CountingStorage } from '../express/serve/harness.js';
import { expectCode } from '../helpers/streams.js';

describe('ObjectCache', () => {
  let scratch: string;
  let memory: MemoryStorage;
  let origin: CountingStorage;
  let now: number;
  let cache: ObjectCache;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'stowage-objcache-'));
  });
  afterAll(async () => {
    await cache?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  beforeEach(async () => {
    memory = new MemoryStorage();
    origin = new CountingStorage(memory);
    now = 0;
    await cache?.close();
    cache = new ObjectCache(origin, {
      memory: { maxBytes: 10_000, maxObjectBytes: 100 },
      disk: { dir: scratch, maxBytes: 10_000, maxObjectBytes: 1000 },
      revalidateAfterMs: 1000,
      now: () => now,
    });
  });

  it('many concurrent misses never buffer more than the memory tier may hold', async () => {
    const size = 2_000;
    const keys = Array.from({ length: 50 }, (_, i) => `burst/${i}`);
    for (const key of keys) await memory.put(key, Buffer.alloc(size, 1));
    // The origin answers every get at once, after all 50 misses are in flight.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const held = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop !== 'get') return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<MemoryStorage['get']>) => {
          await gate;
          return target.get(...args);
        };
      },
    });
    const burst = new ObjectCache(held, {
      memory: { maxBytes: 10_000, maxObjectBytes: size },
      disk: false,
      revalidateAfterMs: 1000,
    });
    const lookups = Promise.all(keys.map((key) => burst.lookup(key)));
    open();
    const tiers = (await lookups).map((o) => o.tier);
    // At most maxBytes / size fills read into memory at once; the rest stream from the origin this time.
    expect(tiers.filter((t) => t === 'memory').length).toBeLessThanOrEqual(10_000 / size);
    expect(tiers.filter((t) => t === 'origin').length).toBeGreaterThan(0);
    expect(tiers.every((t) => t === 'memory' || t === 'origin')).toBe(true);
    expect(burst.stats().memory?.bytes ?? 0).toBeLessThanOrEqual(10_000);
    await burst.close();
  });

  it('places objects by size: memory, disk, origin', async () => {
    await memory.put('s', Buffer.alloc(50));
    await memory.put('m', Buffer.alloc(500));
    await memory.put('l', Buffer.alloc(5000));
    expect((await cache.lookup('s')).tier).toBe('memory');
    expect((await cache.lookup('m')).tier).toBe('disk');
    expect((await cache.lookup('l')).tier).toBe('origin');
    origin.reset();
    for (const key of ['s', 'm', 'l']) await cache.lookup(key);
    expect(origin.gets).toEqual([]);
    expect(origin.heads).toEqual([]);
  });

  it('after the TTL, concurrent stale hits share one head(); same ETag keeps the copy', async () => {
    await memory.put('s', 'one');
    await cache.lookup('s');
    now = 5000;
    origin.reset();
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.lookup('s')));
    expect(origin.heads).toEqual(['s']);
    expect(origin.gets).toEqual([]);
    expect(results.every((r) => r.tier === 'memory')).toBe(true);
    // Freshly confirmed: no new head within the TTL.
    now = 5500;
    await cache.lookup('s');
    expect(origin.heads).toEqual(['s']);
  });

  it('a changed ETag refetches; a deleted object becomes NOT_FOUND', async () => {
    await memory.put('s', 'one');
    await cache.lookup('s');
    await memory.put('s', 'two!');
    now = 5000;
    const object = await cache.lookup('s');
    expect(object.tier === 'memory' && object.data.toString()).toBe('two!');
    await memory.delete('s');
    now = 10_000;
    await expectCode(cache.lookup('s'), 'NOT_FOUND');
    expect(cache.stats().memory!.entries).toBe(0);
  });

  it('serves the stale copy when revalidation meets a retryable error', async () => {
    const lines: string[] = [];
    setLogger({ info: (m) => lines.push(m), warn: (m) => lines.push(m) });
    try {
      await memory.put('s', 'one');
      await cache.lookup('s');
      origin.head = async () => {
        throw new StowageError('UNAVAILABLE', 'origin down');
      };
      now = 5000;
      const object = await cache.lookup('s');
      expect(object.tier === 'memory' && object.data.toString()).toBe('one');
      expect(lines.some((l) => l.includes('revalidation failed'))).toBe(true);
    } finally {
      setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
    }
  });

  it('info() answers HEAD from a cached copy, else from head() without caching', async () => {
    await memory.put('s', 'one');
    const first = await cache.info('s');
    expect(first.tier).toBe('origin');
    expect(cache.stats().memory!.entries).toBe(0);
    await cache.lookup('s');
    origin.reset();
    expect((await cache.info('s')).tier).toBe('memory');
    expect(origin.heads).toEqual([]);
  });

  it('sameVersion compares ETags, else size and mtime', () => {
    const base = { key: 'k', size: 1, metadata: {} };
    expect(sameVersion({ ...base, etag: '"a"' }, { ...base, etag: '"a"' })).toBe(true);
    expect(sameVersion({ ...base, etag: '"a"' }, { ...base, etag: '"b"' })).toBe(false);
    const t = new Date(1000);
    expect(sameVersion({ ...base, lastModified: t }, { ...base, lastModified: new Date(1000) })).toBe(true);
    expect(sameVersion({ ...base, lastModified: t }, { ...base, size: 2, lastModified: t })).toBe(false);
  });
});
