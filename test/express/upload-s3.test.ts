import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import type { Storage } from '../../src/core/types.js';
import { abortAfter } from '../helpers/raw-multipart.js';
import { s3Calls } from '../helpers/s3-calls.js';
import { collect, randomData, sha256 } from '../helpers/streams.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { multipartBody } from './upload/fixtures.js';
import { allKeys, close, EXPRESS_VERSIONS, listen, uploadApp } from './upload/harness.js';
import { runUploadSuite } from './upload/suite.js';

let server: S3TestServer;
let counter = 0;

beforeAll(async () => {
  server = await startS3Server({ bucket: 'upload-tests' });
});
afterAll(async () => {
  await server?.stop();
});

/**
 * s3rver stores keys as files and, on delete, removes directories left empty;
 * a put racing that removal into the same directory crashes the server
 * (unhandled ENOENT). Real S3 has no directories. Until the test server
 * patches it, a fixture object keeps ".staging/" from ever being empty.
 */
const KEEP_STAGING_DIR = '.staging/s3rver-keep-dir';

/** A fresh, empty S3Storage for each test: its own prefix in the bucket, every credential explicit. */
async function s3Storage(): Promise<Storage> {
  counter += 1;
  const storage = new S3Storage({
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    prefix: `run-${process.pid}-${counter}`,
  });
  await storage.put(KEEP_STAGING_DIR, '');
  return storage;
}

for (const [expressName, makeExpress] of EXPRESS_VERSIONS) {
  runUploadSuite('the S3 test server', s3Storage, expressName, makeExpress, {
    aborts: expressName === 'express 5' ? 100 : 25,
    fixtureKeys: [KEEP_STAGING_DIR],
  });
}

describe('upload() into S3 with files larger than one part (multipart upload)', () => {
  const MiB = 1024 * 1024;

  it('stores a 12 MiB file intact, published by completing its multipart upload (no copy)', async () => {
    const storage = await s3Storage();
    const data = randomData(12 * MiB);
    const { app } = uploadApp(EXPRESS_VERSIONS[0][1], storage, { maxFileSize: 16 * MiB });
    await server.clearRequests();
    const res = await supertest(app).post('/upload').attach('f', data, 'big.bin');
    expect(res.status).toBe(200);
    const calls = await s3Calls(server);
    expect(calls).toContain('CompleteMultipartUpload');
    expect(calls).not.toContain('CopyObject');
    expect(calls).not.toContain('UploadPartCopy');
    const [file] = res.body.files;
    expect(file).toMatchObject({ size: data.length, sha256: sha256(data) });
    expect(sha256(await collect((await storage.get(file.key)).body))).toBe(sha256(data));
    expect(await allKeys(storage)).toEqual([KEEP_STAGING_DIR, file.key].sort());
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('leaves no object and no open multipart upload when the limit trips after the first part', async () => {
    const storage = await s3Storage();
    const { app, completed } = uploadApp(EXPRESS_VERSIONS[0][1], storage, {
      maxFileSize: 10 * MiB,
      drainLimit: 64 * MiB,
    });
    const res = await supertest(app)
      .post('/upload')
      .attach('f', randomData(12 * MiB), 'big.bin');
    expect(res.status).toBe(413);
    await completed(1);
    expect(await allKeys(storage)).toEqual([KEEP_STAGING_DIR]);
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('publishes none of a request whose second file is refused: the first keeps the previous object', async () => {
    const storage = await s3Storage();
    await storage.put('fixed/a', 'previous');
    const { app, completed } = uploadApp(EXPRESS_VERSIONS[0][1], storage, {
      maxFileSize: 16 * MiB,
      drainLimit: 64 * MiB,
      key: ({ field }) => `fixed/${field}`,
    });
    const res = await supertest(app)
      .post('/upload')
      .attach('a', randomData(12 * MiB), 'first.bin')
      .attach('b', randomData(20 * MiB), 'second.bin');
    expect(res.status).toBe(413);
    await completed(1);
    expect((await collect((await storage.get('fixed/a')).body)).toString()).toBe('previous');
    expect(await allKeys(storage)).toEqual([KEEP_STAGING_DIR, 'fixed/a'].sort());
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('leaves no object and no open multipart upload when the client drops after the first part', async () => {
    const storage = await s3Storage();
    const { app, completed, outcomes } = uploadApp(EXPRESS_VERSIONS[0][1], storage, {
      maxFileSize: 32 * MiB,
    });
    const { server: http, port } = await listen(app);
    try {
      const boundary = 'bigAbort';
      const body = multipartBody(boundary, [{ name: 'f', filename: 'big.bin', data: randomData(20 * MiB) }]);
      await abortAfter(port, boundary, body, 14 * MiB);
      await completed(1);
      expect(outcomes[0]?.error?.code).toBe('ABORTED');
      expect(await allKeys(storage)).toEqual([KEEP_STAGING_DIR]);
      expect(await server.pendingUploads()).toEqual([]);
    } finally {
      await close(http);
    }
  });
});
