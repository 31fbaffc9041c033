import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CountingStorage,
  EXPRESS_VERSIONS,
  makeStorage,
  type Served,
  type StorageFixture,
  serveApp,
} from './serve/harness.js';

// 10,000 keys run at the ObjectCache level (test/cache/bounds.test.ts); over HTTP 1,000 keep the run short.
const KEYS = 1_000;
const MEMORY_LIMIT = 16 * 1024;
const DISK_LIMIT = 48 * 1024;
const CONCURRENCY = 16;

/** Small objects for the memory tier on even keys, a little larger ones for the disk tier on odd keys. */
function objectFor(i: number): Buffer {
  const size = i % 2 === 0 ? 30 + (i % 170) : 300 + ((i * 31) % 900);
  const data = Buffer.alloc(size, i % 251);
  data.writeUInt32BE(i, 0);
  return data;
}

describe.each(EXPRESS_VERSIONS.slice(0, 1))(
  'serve() over %s: 1,000 distinct keys through both tiers',
  (_name, makeExpress) => {
    let fixture: StorageFixture;
    let served: Served;
    let origin: CountingStorage;

    beforeAll(async () => {
      fixture = await makeStorage('memory');
      for (let i = 0; i < KEYS; i++) await fixture.storage.put(`k/${i}`, objectFor(i));
      origin = new CountingStorage(fixture.storage);
      served = await serveApp(makeExpress, origin, {
        memory: { maxBytes: MEMORY_LIMIT, maxObjectBytes: 256 },
        disk: { dir: join(fixture.scratch, 'cache'), maxBytes: DISK_LIMIT, maxObjectBytes: 4096 },
      });
    });

    afterAll(async () => {
      await served?.close();
      await fixture?.close();
    });

    it('memory and disk tiers stay within their byte limits, and every answer is right', async () => {
      let next = 0;
      let maxMemory = 0;
      let maxDisk = 0;
      const worker = async () => {
        while (next < KEYS) {
          const i = next++;
          const res = await fetch(`${served.base}/files/k/${i}`);
          const body = Buffer.from(await res.arrayBuffer());
          expect(res.status).toBe(200);
          expect(body.equals(objectFor(i))).toBe(true);
          const stats = served.handler.cache.stats();
          maxMemory = Math.max(maxMemory, stats.memory!.bytes);
          maxDisk = Math.max(maxDisk, stats.disk!.bytes);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      expect(maxMemory).toBeLessThanOrEqual(MEMORY_LIMIT);
      expect(maxDisk).toBeLessThanOrEqual(DISK_LIMIT);
      expect(maxMemory).toBeGreaterThan(MEMORY_LIMIT * 0.8);
      expect(maxDisk).toBeGreaterThan(DISK_LIMIT * 0.8);
      expect(origin.gets.length).toBe(KEYS);
      const dir = await served.handler.cache.disk!.dir();
      const files = await readdir(dir);
      let onDisk = 0;
      for (const f of files) onDisk += (await stat(join(dir, f))).size;
      expect(onDisk).toBeLessThanOrEqual(DISK_LIMIT);
      expect(files.filter((f) => f.startsWith('tmp-'))).toEqual([]);
    });
  },
);
