import { describe, expect, it } from 'vitest';
import { encodeCopySource } from '../../adapters/s3/copy.js';
import { ODD_LEGAL_KEYS } from '../../src/testing/hostile-keys.js';
import { collect, expectCode } from '../helpers/streams.js';
import { describeEachS3Server, storageOn } from './harness.js';

/** Runs `task` over `items`, `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

describe('S3 CopySource encoding', () => {
  it('encodes CopySource as S3 expects: every reserved byte percent-encoded, "/" kept', () => {
    expect(encodeCopySource('bkt', 'a b/c+d&e;f=g%h#i?j')).toBe('bkt/a%20b/c%2Bd%26e%3Bf%3Dg%25h%23i%3Fj');
    expect(encodeCopySource('bkt', "ü/it's (1)*!")).toBe('bkt/%C3%BC/it%27s%20%281%29%2A%21');
  });
});

describeEachS3Server('S3 keys and listing', { prefix: 'tenant one' }, (s3) => {
  it('copies odd keys (spaces, + & ; = %, quotes, non-ASCII) to odd keys, content and key intact', async () => {
    for (const [i, name] of ODD_LEGAL_KEYS.entries()) {
      const from = `odd/${name}`;
      const to = `copied/${i}/${name} ✓`;
      await s3.storage.put(from, `content of ${name}`, { metadata: { n: String(i) } });
      const info = await s3.storage.copy(from, to);
      expect(info.key).toBe(to);
      expect((await collect((await s3.storage.get(to)).body)).toString()).toBe(`content of ${name}`);
      expect((await s3.storage.head(to)).metadata).toEqual({ n: String(i) });
    }
    const sent = (await s3.server.requests()).filter((r) => r.headers['x-amz-copy-source']);
    expect(sent).toHaveLength(ODD_LEGAL_KEYS.length);
    // The raw header the SDK sent is the strict encoding (the server's log shows it as received).
    expect(sent.some((r) => r.headers['x-amz-copy-source']!.includes('%2Bb%26c%3Bd%3De%25f'))).toBe(true);
    const listed: string[] = [];
    for await (const info of s3.storage.list('copied/')) listed.push(info.key);
    expect(listed).toHaveLength(ODD_LEGAL_KEYS.length);
  });

  it('copy onto itself is a no-op that keeps the object', async () => {
    await s3.storage.put('self.txt', 'same');
    expect((await s3.storage.copy('self.txt', 'self.txt')).size).toBe(4);
    expect((await collect((await s3.storage.get('self.txt')).body)).toString()).toBe('same');
  });

  it('lists 1,050 keys in UTF-8 byte order across pages, and resumes after a key', async () => {
    const keys = Array.from(
      { length: 1050 },
      (_, i) => `many/${String(i).padStart(4, '0')}${i % 7 === 0 ? '/deep' : ''}.txt`,
    );
    // 50 written through stowage, the rest seeded in the server's store (HTTP costs ~20 ms a key here).
    await inParallel(keys.slice(0, 50), 8, (key) => s3.storage.put(key, 'x'));
    await s3.server.seed(
      keys.slice(50).map((key) => `tenant one/${key}`),
      'x',
    );
    await s3.server.clearRequests();
    const listed: string[] = [];
    for await (const info of s3.storage.list('many/')) {
      listed.push(info.key);
      expect(info.size).toBe(1);
    }
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed).toEqual(sorted);
    const pages = (await s3.server.requests()).filter(
      (r) => r.method === 'GET' && r.query.includes('list-type'),
    );
    expect(pages).toHaveLength(2);

    const small: string[] = [];
    for await (const info of s3.storage.list('many/', { pageSize: 100, startAfter: sorted[999] }))
      small.push(info.key);
    expect(small).toEqual(sorted.slice(1000));
  });

  it('deleteMany removes many keys in batches of 1,000 (DeleteObjects), idempotently', async () => {
    const keys = Array.from({ length: 1200 }, (_, i) => `bulk/${i}.txt`);
    await s3.server.seed(
      keys.map((key) => `tenant one/${key}`),
      'b',
    );
    await s3.storage.put('bulk-keep/kept.txt', 'kept');
    await s3.server.clearRequests();
    await s3.storage.deleteMany([...keys, 'bulk/never-existed.txt']);
    const batches = (await s3.server.requests()).filter(
      (r) => r.method === 'POST' && r.query.includes('delete'),
    );
    expect(batches.map((b) => b.status)).toEqual([200, 200]);
    const left: string[] = [];
    for await (const info of s3.storage.list('bulk')) left.push(info.key);
    expect(left).toEqual(['bulk-keep/kept.txt']);
    await expectCode(s3.storage.deleteMany(['ok', '../bad']), 'INVALID_KEY');
  });

  it('validates list options', async () => {
    await expectCode(async () => {
      for await (const _ of s3.storage.list('', { pageSize: 5000 })) void _;
    }, 'INVALID_ARGUMENT');
    await expectCode(async () => {
      for await (const _ of s3.storage.list('', { startAfter: 5 as never })) void _;
    }, 'INVALID_ARGUMENT');
  });

  it('skips folder markers and keys outside the prefix that another tool wrote', async () => {
    const other = storageOn(s3.server);
    await other.client.send(
      new (await import('@aws-sdk/client-s3')).PutObjectCommand({
        Bucket: s3.server.bucket,
        Key: 'tenant one/markers/',
        Body: new Uint8Array(0),
        ContentLength: 0,
      }),
    );
    await s3.storage.put('markers/real.txt', 'r');
    const listed: string[] = [];
    for await (const info of s3.storage.list('markers/')) listed.push(info.key);
    expect(listed).toEqual(['markers/real.txt']);
  });
});
