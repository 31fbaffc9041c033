import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../../src/core/types.js';
import { randomData, stallingStream } from '../helpers/streams.js';
import {
  CountingStorage,
  EXPRESS_VERSIONS,
  makeStorage,
  rawRequest,
  type Served,
  STORAGE_KINDS,
  type StorageFixture,
  serveApp,
} from './serve/harness.js';

const KiB = 1024;
/** One object per tier: memory holds ≤ 1 KiB, disk ≤ 256 KiB, the rest streams from the origin. */
const OBJECTS = {
  'tier/small.bin': randomData(700),
  'tier/medium.bin': randomData(150 * KiB + 7),
  'tier/large.bin': randomData(400 * KiB + 3),
};
const TIERS = { memory: { maxBytes: 64 * KiB, maxObjectBytes: KiB } };

function rangesFor(size: number): Array<[string, number, number]> {
  return [
    ['bytes=0-0', 0, 0],
    [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
    ['bytes=1-100', 1, 100],
    [`bytes=-${Math.min(300, size)}`, size - Math.min(300, size), size - 1],
    [
      `bytes=${Math.floor(size / 3)}-${Math.floor((2 * size) / 3)}`,
      Math.floor(size / 3),
      Math.floor((2 * size) / 3),
    ],
    ['bytes=65530-65545', 65530, 65545],
    [`bytes=${size - 10}-`, size - 10, size - 1],
  ].filter(([, start]) => (start as number) < size) as Array<[string, number, number]>;
}

describe.each(EXPRESS_VERSIONS)('serve() cache tiers on %s', (_name, makeExpress) => {
  describe.each(STORAGE_KINDS)('with %s storage', (kind) => {
    let fixture: StorageFixture;
    let origin: CountingStorage;
    let served: Served;

    beforeAll(async () => {
      fixture = await makeStorage(kind);
      for (const [key, data] of Object.entries(OBJECTS)) await fixture.storage.put(key, data);
      origin = new CountingStorage(fixture.storage);
      served = await serveApp(makeExpress, origin, {
        ...TIERS,
        disk: { dir: join(fixture.scratch, 'cache'), maxBytes: 512 * KiB, maxObjectBytes: 256 * KiB },
        revalidateAfter: 3600,
      });
    });

    afterAll(async () => {
      await served?.close();
      await fixture?.close();
    });

    it.each(Object.keys(OBJECTS))('%s: full and ranged reads are byte-exact, cold and warm', async (key) => {
      const data = OBJECTS[key as keyof typeof OBJECTS];
      for (const pass of ['cold', 'warm']) {
        const full = await rawRequest(served.base, `/files/${key}`);
        expect(full.status, pass).toBe(200);
        expect(full.body.equals(data), pass).toBe(true);
        for (const [range, start, end] of rangesFor(data.length)) {
          const res = await rawRequest(served.base, `/files/${key}`, { headers: { Range: range } });
          expect(res.status, `${pass} ${range}`).toBe(206);
          expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${data.length}`);
          expect(res.body.equals(data.subarray(start, end + 1)), `${pass} ${range}`).toBe(true);
        }
      }
    });

    it('each object sits in the tier its size calls for, and warm reads skip the origin', async () => {
      const stats = served.handler.cache.stats();
      expect(stats.memory?.entries).toBe(1);
      expect(stats.disk?.entries).toBe(1);
      origin.reset();
      await rawRequest(served.base, '/files/tier/small.bin', { headers: { Range: 'bytes=5-9' } });
      await rawRequest(served.base, '/files/tier/medium.bin', { headers: { Range: 'bytes=5-9' } });
      expect(origin.gets).toEqual([]);
      const large = await rawRequest(served.base, '/files/tier/large.bin', {
        headers: { Range: 'bytes=5-9' },
      });
      expect(large.body.equals(OBJECTS['tier/large.bin'].subarray(5, 10))).toBe(true);
      // Pass-through: one ranged get for exactly the bytes asked.
      expect(origin.gets).toEqual([{ key: 'tier/large.bin', opts: { range: { start: 5, end: 9 } } }]);
    });

    it('a pass-through object replaced at the origin is answered with the new version, never a mix', async () => {
      const key = 'tier/replaced.bin';
      const v1 = randomData(300 * KiB);
      const v2 = randomData(300 * KiB);
      await fixture.storage.put(key, v1);
      expect((await rawRequest(served.base, `/files/${key}`)).body.equals(v1)).toBe(true);
      await fixture.storage.put(key, v2);
      // Within the TTL the cached metadata still names v1; the ranged get reveals v2 and the answer restarts.
      const res = await rawRequest(served.base, `/files/${key}`, { headers: { Range: 'bytes=10-19' } });
      expect(res.status).toBe(206);
      expect(res.body.equals(v2.subarray(10, 20))).toBe(true);
      expect(res.headers.etag).toBe((await fixture.storage.head(key)).etag);
    });

    it('single flight: 20 concurrent cold misses make one origin get()', async () => {
      for (const [key, size] of [
        ['flight/small.bin', 500],
        ['flight/medium.bin', 100 * KiB],
      ] as const) {
        const data = randomData(size);
        await fixture.storage.put(key, data);
        origin.reset();
        let release!: () => void;
        origin.gate = new Promise((r) => {
          release = r;
        });
        const cache = served.handler.cache;
        const lookup = cache.lookup.bind(cache);
        let lookups = 0;
        cache.lookup = (k: string) => {
          lookups++;
          return lookup(k);
        };
        const responses = Array.from({ length: 20 }, () => rawRequest(served.base, `/files/${key}`));
        // Hold the origin until all 20 requests are inside the cache, waiting on the same miss.
        while (lookups < 20) await new Promise((r) => setImmediate(r));
        cache.lookup = lookup;
        expect(origin.gets.length).toBe(1);
        release();
        origin.gate = undefined;
        const results = await Promise.all(responses);
        for (const res of results) expect(res.body.equals(data)).toBe(true);
        expect(origin.gets.length, key).toBe(1);
      }
    });

    it('revalidates by ETag after the TTL: unchanged → no new get; changed → new bytes', async () => {
      const fixtureKey = 'reval/x.txt';
      await fixture.storage.put(fixtureKey, 'version one');
      const eager = await serveApp(makeExpress, origin, { ...TIERS, disk: false, revalidateAfter: 0 });
      try {
        origin.reset();
        expect((await rawRequest(eager.base, `/files/${fixtureKey}`)).body.toString()).toBe('version one');
        expect((await rawRequest(eager.base, `/files/${fixtureKey}`)).body.toString()).toBe('version one');
        expect(origin.gets.length).toBe(1);
        expect(origin.heads.length).toBeGreaterThanOrEqual(1);
        await fixture.storage.put(fixtureKey, 'version two!');
        const after = await rawRequest(eager.base, `/files/${fixtureKey}`);
        expect(after.body.toString()).toBe('version two!');
        expect(origin.gets.length).toBe(2);
        await fixture.storage.delete(fixtureKey);
        expect((await rawRequest(eager.base, `/files/${fixtureKey}`)).status).toBe(404);
      } finally {
        await eager.close();
      }
    });

    it('within the TTL the cached version is served without asking the origin', async () => {
      await fixture.storage.put('reval/y.txt', 'first');
      origin.reset();
      expect((await rawRequest(served.base, '/files/reval/y.txt')).body.toString()).toBe('first');
      await fixture.storage.put('reval/y.txt', 'second');
      expect((await rawRequest(served.base, '/files/reval/y.txt')).body.toString()).toBe('first');
      expect(origin.heads).toEqual([]);
      served.handler.cache.invalidate('reval/y.txt');
      expect((await rawRequest(served.base, '/files/reval/y.txt')).body.toString()).toBe('second');
    });
  });
});

describe.each(EXPRESS_VERSIONS)('serve() and a client that disconnects, on %s', (_name, makeExpress) => {
  let fixture: StorageFixture;
  let served: Served;
  const bodies: Readable[] = [];

  beforeAll(async () => {
    fixture = await makeStorage('memory');
    await fixture.storage.put('big/stall.bin', randomData(1000));
    const origin = new CountingStorage(fixture.storage);
    // An origin that announces 50 MB, sends a little and then stalls: only a destroy can end its body.
    const info = async (key: string): Promise<ObjectInfo> => ({
      ...(await fixture.storage.head(key)),
      size: 50_000_000,
    });
    origin.head = info;
    origin.get = async (key) => {
      const body = stallingStream(64 * 1024);
      bodies.push(body);
      return { info: await info(key), body };
    };
    served = await serveApp(makeExpress, origin, { memory: false, disk: false });
  });

  afterAll(async () => {
    await served?.close();
    await fixture?.close();
  });

  it('destroys the origin stream when the client goes away mid-body', async () => {
    const { hostname, port } = new URL(served.base);
    const req = httpRequest({ host: hostname, port, path: '/files/big/stall.bin', agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('50000000');
    await once(res, 'data');
    expect(bodies.length).toBe(1);
    // The body may close with an error (pipeline's premature close): only that it closes matters.
    const closed = new Promise((resolve) => bodies[0]!.once('close', resolve));
    req.destroy();
    await closed;
    expect(bodies[0]!.destroyed).toBe(true);
  });
});
