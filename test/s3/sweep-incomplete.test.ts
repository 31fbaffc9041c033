import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Storage } from '../../adapters/s3/index.js';
import { sweepStaged } from '../../src/express/direct-upload/sweep.js';
import { expectCode } from '../helpers/streams.js';
import { type QuirkProxy, startQuirkProxy } from '../servers/s3-quirk-proxy.js';
import { describeEachS3Server, storageOn, useS3Server } from './harness.js';
import { type KilledPut, prepareKilledPut } from './killed-put.js';

const HOUR = 3_600_000;
const STAGED = ['.staging/a.bin', '.staging/b.bin', '.staging/c/d.bin', '.staging/e.bin', '.staging/f.bin'];

/** The storage, with ListMultipartUploads paged two uploads at a time: the sweep must follow markers. */
function pagedByTwo(storage: S3Storage): S3Storage {
  return new Proxy(storage, {
    get(target, property) {
      if (property === 'sweepIncompleteUploads')
        return (prefix: string, olderThan: Date, opts?: object) =>
          target.sweepIncompleteUploads(prefix, olderThan, { ...opts, pageSize: 2 });
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describeEachS3Server('sweeping stale multipart uploads under the staging prefix', { prefix: 'app' }, (s3) => {
  /** Starts a multipart upload at a storage key (under the storage's "app/" root) and sends one part. */
  async function startUpload(key: string): Promise<string> {
    const client = s3.storage.client;
    const Bucket = s3.server.bucket;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: `app/${key}` }));
    const Body = Buffer.alloc(1024, 0x61);
    await client.send(new UploadPartCommand({ Bucket, Key: `app/${key}`, UploadId, PartNumber: 1, Body }));
    return UploadId!;
  }

  it('sweepStaged() aborts them on every page with the staged objects, after a dry run that aborts none', async () => {
    const ids = new Map<string, string>();
    for (const key of STAGED) ids.set(key, await startUpload(key));
    const outside = await startUpload('uploads/final.bin');
    await s3.storage.put('.staging/object.bin', 'left behind');
    // A day from now everything started here is past the 24 h cutoff.
    const later = { olderThanHours: 24, now: new Date(Date.now() + 25 * HOUR) };
    const storage = pagedByTwo(s3.storage);

    const dry = await sweepStaged(storage, { ...later, dryRun: true });
    expect(dry.deleted).toEqual(['.staging/object.bin']);
    expect(dry.abortedMultipart).toBe(STAGED.length);
    // Storage keys (without the "app/" root), with their upload ids.
    expect(dry.abortedUploads!.map((u) => [u.key, u.uploadId]).sort()).toEqual(
      STAGED.map((key) => [key, ids.get(key)]).sort(),
    );
    for (const upload of dry.abortedUploads!) expect(upload.initiated).toBeInstanceOf(Date);
    expect(await s3.server.pendingUploads()).toHaveLength(STAGED.length + 1);
    expect(await s3.storage.exists('.staging/object.bin')).toBe(true);

    const swept = await sweepStaged(storage, later);
    expect(swept.abortedUploads!.map((u) => u.key).sort()).toEqual([...STAGED].sort());
    expect(swept.deleted).toEqual(['.staging/object.bin']);
    // Only the upload outside the staging prefix is left.
    expect(await s3.server.pendingUploads()).toEqual([`app/uploads/final.bin (${outside})`]);
    expect(await s3.storage.exists('.staging/object.bin')).toBe(false);

    const again = await sweepStaged(storage, later);
    expect(again).toMatchObject({ deleted: [], abortedMultipart: 0 });
    // Leaves the server clean for the next test.
    await s3.storage.client.send(
      new AbortMultipartUploadCommand({
        Bucket: s3.server.bucket,
        Key: 'app/uploads/final.bin',
        UploadId: outside,
      }),
    );
  });

  s3.it('uploadAges', 'keeps uploads younger than the cutoff', async () => {
    const old = await startUpload('.staging/old.bin');
    const young = await startUpload('.staging/young.bin');
    // s3rver reports an upload's start as the mtime of its "key" file: make one 30 hours old.
    const when = new Date(Date.now() - 30 * HOUR);
    await utimes(join(s3.server.directory, s3.server.bucket, '._S3rver_uploads', old, 'key'), when, when);
    const report = await sweepStaged(s3.storage, { olderThanHours: 24 });
    expect(report.abortedUploads!.map((u) => [u.key, u.uploadId])).toEqual([['.staging/old.bin', old]]);
    expect(Math.abs(report.abortedUploads![0]!.initiated.getTime() - when.getTime())).toBeLessThan(1000);
    expect(await s3.server.pendingUploads()).toEqual([`app/.staging/young.bin (${young})`]);
    expect((await sweepStaged(s3.storage, { olderThanHours: 0 })).abortedMultipart).toBe(1);
  });

  it('sweepIncompleteUploads validates its arguments', async () => {
    await expectCode(
      s3.storage.sweepIncompleteUploads('.staging/', new Date(Number.NaN)),
      'INVALID_ARGUMENT',
    );
    await expectCode(s3.storage.sweepIncompleteUploads('../x/', new Date()), 'INVALID_KEY');
    await expectCode(
      s3.storage.sweepIncompleteUploads('.staging/', new Date(), { pageSize: 0 }),
      'INVALID_ARGUMENT',
    );
  });
});

describeEachS3Server(
  'sweeping multipart uploads a killed put() left at final keys',
  { prefix: 'app' },
  (s3) => {
    let killed: KilledPut;
    beforeAll(async () => {
      killed = await prepareKilledPut();
    });
    afterAll(() => killed?.cleanup());

    const Bucket = () => s3.server.bucket;
    const killMidPut = (key: string) => killed.killMidPut(s3.server, key, { prefix: 'app' });
    /** A multipart upload with one part at a raw S3 key (not through the storage's "app/" root). */
    async function startRawUpload(Key: string): Promise<string> {
      const client = s3.storage.client;
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: Bucket(), Key }));
      const Body = Buffer.alloc(1024, 0x61);
      await client.send(new UploadPartCommand({ Bucket: Bucket(), Key, UploadId, PartNumber: 1, Body }));
      return UploadId!;
    }
    async function pendingUnderRoot(): Promise<string[]> {
      const page = await s3.storage.client.send(
        new ListMultipartUploadsCommand({ Bucket: Bucket(), Prefix: 'app/' }),
      );
      return (page.Uploads ?? []).map((u) => u.Key!);
    }
    async function abortRaw(Key: string, UploadId: string): Promise<void> {
      await s3.storage.client.send(new AbortMultipartUploadCommand({ Bucket: Bucket(), Key, UploadId }));
    }

    it('a plain sweep leaves them; allMultipart aborts every one under the root, after a dry run that aborts none', async () => {
      const left = await killMidPut('uploads/big.bin');
      expect(await s3.server.pendingUploads()).toEqual([`app/uploads/big.bin (${left})`]);
      const staged = await startRawUpload('app/.staging/s.bin');
      // Outside the storage's root: not this storage's to sweep.
      const outside = await startRawUpload('elsewhere/x.bin');
      const later = { olderThanHours: 24, now: new Date(Date.now() + 25 * HOUR) };

      const plain = await sweepStaged(s3.storage, later);
      expect(plain).toMatchObject({ abortedMultipart: 1, multipartPrefix: '.staging/' });
      expect(plain.abortedUploads!.map((u) => [u.key, u.uploadId])).toEqual([['.staging/s.bin', staged]]);
      expect(await pendingUnderRoot()).toEqual(['app/uploads/big.bin']);

      const dry = await sweepStaged(s3.storage, { ...later, allMultipart: true, dryRun: true });
      expect(dry).toMatchObject({ deleted: [], abortedMultipart: 1, multipartPrefix: '' });
      expect(dry.abortedUploads!.map((u) => [u.key, u.uploadId])).toEqual([['uploads/big.bin', left]]);
      expect(dry.abortedUploads![0]!.initiated).toBeInstanceOf(Date);
      expect(await pendingUnderRoot()).toEqual(['app/uploads/big.bin']);

      const swept = await sweepStaged(s3.storage, { ...later, allMultipart: true });
      expect(swept.abortedUploads!.map((u) => [u.key, u.uploadId])).toEqual([['uploads/big.bin', left]]);
      expect(await pendingUnderRoot()).toEqual([]);
      expect(await s3.server.pendingUploads()).toEqual([`elsewhere/x.bin (${outside})`]);
      // Nothing reached the final key.
      expect(await s3.storage.exists('uploads/big.bin')).toBe(false);
      await abortRaw('elsewhere/x.bin', outside);
    });

    s3.it('uploadAges', 'allMultipart keeps uploads younger than the cutoff', async () => {
      const old = await killMidPut('uploads/old.bin');
      const young = await killMidPut('uploads/young.bin');
      // s3rver reports an upload's start as the mtime of its "key" file: make one 30 hours old.
      const when = new Date(Date.now() - 30 * HOUR);
      await utimes(join(s3.server.directory, s3.server.bucket, '._S3rver_uploads', old, 'key'), when, when);
      const report = await sweepStaged(s3.storage, { olderThanHours: 24, allMultipart: true });
      expect(report.abortedUploads!.map((u) => [u.key, u.uploadId])).toEqual([['uploads/old.bin', old]]);
      expect(await s3.server.pendingUploads()).toEqual([`app/uploads/young.bin (${young})`]);
      await abortRaw('app/uploads/young.bin', young);
    });

    it('allMultipart must be a boolean', async () => {
      await expectCode(
        sweepStaged(s3.storage, { allMultipart: 'yes' as unknown as boolean }),
        'INVALID_ARGUMENT',
      );
    });
  },
);

describe('sweeping on a store that cannot list multipart uploads', () => {
  const s3 = useS3Server();
  let proxy: QuirkProxy;
  beforeAll(async () => {
    proxy = await startQuirkProxy(s3.server.endpoint, { noListMultipartUploads: true });
  });
  afterAll(() => proxy.stop());

  it('still deletes staged objects and says why uploads were not swept (NOT_SUPPORTED)', async () => {
    const storage = storageOn(s3.server, { endpoint: proxy.endpoint });
    await storage.put('.staging/object.bin', 'left behind');
    const report = await sweepStaged(storage, { olderThanHours: 0, now: new Date(Date.now() + HOUR) });
    expect(report.deleted).toEqual(['.staging/object.bin']);
    expect(report.abortedUploads).toBeUndefined();
    expect(report.multipartNotSupported).toMatch(/cannot list multipart uploads.*lifecycle rule/);
    expect(proxy.counts.ListMultipartUploads).toBe(1);
  });

  it('says so with allMultipart too', async () => {
    const storage = storageOn(s3.server, { endpoint: proxy.endpoint });
    const report = await sweepStaged(storage, { olderThanHours: 0, allMultipart: true });
    expect(report.abortedUploads).toBeUndefined();
    expect(report.multipartPrefix).toBeUndefined();
    expect(report.multipartNotSupported).toMatch(/cannot list multipart uploads.*lifecycle rule/);
  });
});
