import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { S3Storage } from '../../adapters/s3/index.js';
import { startS3Server } from '../servers/s3-server.js';
import { removeDir, run, tempDir } from './helpers.js';

describe('stowage sweep', () => {
  let dir: string;
  let store: string;
  beforeAll(async () => {
    dir = await tempDir('sweep');
    store = join(dir, 'store');
  });
  afterAll(() => removeDir(dir));

  async function stage(storage: LocalStorage, key: string, hoursOld: number): Promise<void> {
    await storage.put(key, `bytes of ${key}`);
    const when = new Date(Date.now() - hoursOld * 3_600_000);
    await utimes(join(store, key), when, when);
  }

  it('deletes staged objects older than the cutoff, keeps young ones and everything outside staging', async () => {
    const storage = new LocalStorage({ root: store });
    await stage(storage, '.staging/old-1', 30);
    await stage(storage, '.staging/old-2', 48);
    await stage(storage, '.staging/young', 1);
    await stage(storage, 'uploads/final.png', 100);

    const dry = await run(dir, ['sweep', '--to', `file:${store}`, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.out);
    expect(planned).toMatchObject({ dryRun: true, kept: 1 });
    expect(planned.deleted.sort()).toEqual(['.staging/old-1', '.staging/old-2']);
    expect(await storage.exists('.staging/old-1')).toBe(true);

    const real = await run(dir, ['sweep', '--to', `file:${store}`, '--older-than-hours', '24']);
    expect(real.code).toBe(0);
    expect(real.out).toContain('deleted 2 staged object(s), kept 1');
    expect(await storage.exists('.staging/old-1')).toBe(false);
    expect(await storage.exists('.staging/old-2')).toBe(false);
    expect(await storage.exists('.staging/young')).toBe(true);
    expect(await storage.exists('uploads/final.png')).toBe(true);
    expect(await readdir(join(store, '.staging'))).toContain('young');
  });

  it('refuses bad arguments with a usage error', async () => {
    const bad = await run(dir, ['sweep', '--to', `file:${store}`, '--older-than-hours', '-3']);
    expect(bad.code).toBe(2);
    const none = await run(dir, ['sweep'], {});
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no storage configured/);
  });
});

describe('stowage sweep on S3', () => {
  let server: Awaited<ReturnType<typeof startS3Server>>;
  let dir: string;
  beforeAll(async () => {
    server = await startS3Server();
    dir = await tempDir('sweep-s3');
  });
  afterAll(async () => {
    await server?.stop();
    await removeDir(dir);
  });
  const storageOnServer = () =>
    new S3Storage({
      bucket: server.bucket,
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });

  it('also aborts stale multipart uploads under the staging prefix, and keeps credentials out of the output', async () => {
    const storage = storageOnServer();
    await storage.put('.staging/fresh', 'x');
    const stale = await startUpload(storage, '.staging/stale.bin', 30);
    const young = await startUpload(storage, '.staging/young.bin', 1);
    const dry = await run(dir, ['sweep', '--to', server.storageUrl, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would abort multipart upload of .staging/stale.bin (started ');
    expect(dry.out).toContain(
      'would delete 0 staged object(s), kept 1, would abort 1 stale multipart upload(s)',
    );
    expect(await server.pendingUploads()).toHaveLength(2);

    const result = await run(dir, ['sweep', '--to', server.storageUrl, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out);
    expect(report).toMatchObject({ deleted: [], kept: 1, abortedMultipart: 1 });
    expect(report.abortedUploads).toEqual([
      { key: '.staging/stale.bin', uploadId: stale, initiated: expect.any(String) },
    ]);
    expect(report.multipartNotSupported).toBeUndefined();
    expect(await server.pendingUploads()).toEqual([`.staging/young.bin (${young})`]);
    expect(result.out + result.err + dry.out + dry.err).not.toContain(server.secretAccessKey);
    expect(await storage.exists('.staging/fresh')).toBe(true);
  });

  it('--all-multipart also aborts stale uploads at final keys (a killed put()), keeping young ones', async () => {
    const storage = storageOnServer();
    const stale = await startUpload(storage, 'uploads/video.mp4', 30);
    const young = await startUpload(storage, 'uploads/live.mp4', 1);
    const pending = [`uploads/live.mp4 (${young})`, `uploads/video.mp4 (${stale})`];
    // The test above leaves a young upload under .staging/: look at final keys only.
    const atFinalKeys = async () =>
      (await server.pendingUploads()).filter((upload) => upload.startsWith('uploads/')).sort();

    const plain = await run(dir, ['sweep', '--to', server.storageUrl, '--json']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.out)).toMatchObject({
      abortedUploads: [],
      abortedMultipart: 0,
      multipartPrefix: '.staging/',
    });
    expect(await atFinalKeys()).toEqual(pending);

    const dry = await run(dir, ['sweep', '--to', server.storageUrl, '--all-multipart', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would abort multipart upload of uploads/video.mp4 (started ');
    expect(dry.out).toContain('would abort 1 stale multipart upload(s) anywhere in the storage');
    expect(dry.out).not.toContain('uploads/live.mp4');
    expect(await atFinalKeys()).toEqual(pending);

    const real = await run(dir, ['sweep', '--to', server.storageUrl, '--all-multipart', '--json']);
    expect(real.code).toBe(0);
    const report = JSON.parse(real.out);
    expect(report).toMatchObject({ dryRun: false, abortedMultipart: 1, multipartPrefix: '' });
    expect(report.abortedUploads).toEqual([
      { key: 'uploads/video.mp4', uploadId: stale, initiated: expect.any(String) },
    ]);
    expect(await atFinalKeys()).toEqual([`uploads/live.mp4 (${young})`]);

    const help = await run(dir, ['sweep', '--help']);
    expect(help.out).toContain('--all-multipart');
  });

  /** A multipart upload with one part, started `hoursOld` hours ago (s3rver dates it by its "key" file). */
  async function startUpload(storage: S3Storage, key: string, hoursOld: number): Promise<string> {
    const { UploadId } = await storage.client.send(
      new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: key }),
    );
    await storage.client.send(
      new UploadPartCommand({ Bucket: server.bucket, Key: key, UploadId, PartNumber: 1, Body: 'part' }),
    );
    const when = new Date(Date.now() - hoursOld * 3_600_000);
    await utimes(join(server.directory, server.bucket, '._S3rver_uploads', UploadId!, 'key'), when, when);
    return UploadId!;
  }
});
