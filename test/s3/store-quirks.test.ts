import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Storage } from '../../adapters/s3/index.js';
import { expectCode } from '../helpers/streams.js';
import { type QuirkProxy, startQuirkProxy } from '../servers/s3-quirk-proxy.js';
import { describeEachS3Server, MOTO, storageOn, useS3Server } from './harness.js';

async function keysUnder(storage: S3Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys;
}

describeEachS3Server('S3 store quirks: a repeated continuation token', {}, (s3) => {
  let proxy: QuirkProxy;
  beforeAll(async () => {
    proxy = await startQuirkProxy(s3.server.endpoint, { repeatListToken: true });
  });
  afterAll(() => proxy.stop());

  it('ends the listing with UNAVAILABLE naming the quirk instead of paging forever', async () => {
    for (const n of [1, 2, 3, 4]) await s3.storage.put(`repeat/${n}.txt`, `${n}`);
    const quirky = storageOn(s3.server, { endpoint: proxy.endpoint });
    const seen: string[] = [];
    const listing = (async () => {
      for await (const info of quirky.list('repeat/', { pageSize: 1 })) seen.push(info.key);
    })();
    const err = await expectCode(listing, 'UNAVAILABLE');
    expect(err.message).toMatch(/continuation token it had already returned/);
    expect(err.retryable).toBe(false);
    // Page 1, page 2, then the repeated token is refused before a third request.
    expect(seen).toEqual(['repeat/1.txt', 'repeat/2.txt']);
    expect(proxy.counts.ListObjectsV2).toBe(2);
  });
});

describeEachS3Server('S3 store quirks: no DeleteObjects', {}, (s3) => {
  let proxy: QuirkProxy;
  beforeAll(async () => {
    proxy = await startQuirkProxy(s3.server.endpoint, { noDeleteObjects: true });
  });
  afterAll(() => proxy.stop());

  it('deleteMany falls back to single deletes on 501 NotImplemented, then stops asking', async () => {
    const keys = ['gone/a', 'gone/b', 'gone/c'];
    for (const key of keys) await s3.storage.put(key, 'x');
    const quirky = storageOn(s3.server, { endpoint: proxy.endpoint });
    await quirky.deleteMany([...keys, 'gone/never-there']);
    expect(await keysUnder(s3.storage, 'gone/')).toEqual([]);
    expect(proxy.counts.DeleteObjects).toBe(1);

    await s3.storage.put('gone/d', 'x');
    await quirky.deleteMany(['gone/d']);
    expect(await keysUnder(s3.storage, 'gone/')).toEqual([]);
    expect(proxy.counts.DeleteObjects).toBe(1); // Learned: no second DeleteObjects.
    expect(proxy.counts.DeleteObject).toBe(5);
  });

  it('a profile without batch delete never sends DeleteObjects', async () => {
    await s3.storage.put('profile/a', 'x');
    await s3.storage.put('profile/b', 'x');
    const before = proxy.counts.DeleteObjects ?? 0;
    const noBatch = storageOn(s3.server, { endpoint: proxy.endpoint, batchDelete: false });
    await noBatch.deleteMany(['profile/a', 'profile/b']);
    expect(await keysUnder(s3.storage, 'profile/')).toEqual([]);
    expect(proxy.counts.DeleteObjects ?? 0).toBe(before);
  });

  it('batch delete still works where the store has it', async () => {
    await s3.storage.put('batch/a', 'x');
    await s3.storage.put('batch/b', 'x');
    await s3.storage.deleteMany(['batch/a', 'batch/b']);
    expect(await keysUnder(s3.storage, 'batch/')).toEqual([]);
  });
});

describeEachS3Server('S3 part sizes (R2 wants equal parts)', {}, (s3) => {
  let proxy: QuirkProxy;
  beforeAll(async () => {
    proxy = await startQuirkProxy(s3.server.endpoint, {});
  });
  afterAll(() => proxy.stop());

  it('uploads equal parts, only the last shorter, whatever the body chunking', async () => {
    const MiB = 1024 * 1024;
    const size = 12 * MiB + 321;
    const data = Buffer.alloc(size, 7);
    // Odd chunk sizes that never line up with a part boundary.
    async function* chunks() {
      for (let at = 0; at < size; at += 777_777) yield data.subarray(at, Math.min(at + 777_777, size));
    }
    const r2like = storageOn(s3.server, { endpoint: proxy.endpoint, preset: 'r2', partSize: 5 * MiB });
    await r2like.put('parts/big.bin', Readable.from(chunks()));
    expect(proxy.partSizes).toEqual([5 * MiB, 5 * MiB, 2 * MiB + 321]);
    expect((await s3.storage.head('parts/big.bin')).size).toBe(size);
  });
});

describe('S3 store quirks: stuck ListMultipartUploads markers (moto)', () => {
  // Through moto's own ListMultipartUploads (s3rver's is emulated by s3-server-child.ts).
  const s3 = useS3Server({}, MOTO);
  let proxy: QuirkProxy;
  beforeAll(async () => {
    proxy = await startQuirkProxy(s3.server.endpoint, { stuckUploadMarker: true });
  });
  afterAll(() => proxy.stop());

  it('sweepIncompleteUploads ends with UNAVAILABLE on a repeated marker instead of looping', async () => {
    for (const key of ['stuck/a', 'stuck/b']) {
      await s3.storage.client.send(new CreateMultipartUploadCommand({ Bucket: s3.server.bucket, Key: key }));
    }
    const quirky = storageOn(s3.server, { endpoint: proxy.endpoint });
    const err = await expectCode(
      quirky.sweepIncompleteUploads('stuck/', new Date(Date.now() + 60_000)),
      'UNAVAILABLE',
    );
    expect(err.message).toMatch(/ListMultipartUploads.*already returned/);
    expect(proxy.counts.ListMultipartUploads).toBe(2);
    expect(await s3.server.pendingUploads()).toEqual([]); // Page one's uploads were aborted.
  });
});
