import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import type { DirectUpload } from '../../src/core/types.js';
import { directUpload, sweepStaged } from '../../src/express/direct-upload/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { collect, sha256 } from '../helpers/streams.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { elfBytes, pngBytes } from './upload/fixtures.js';
import { allKeys } from './upload/harness.js';

let server: S3TestServer;
let counter = 0;

beforeAll(async () => {
  server = await startS3Server({ bucket: 'direct-upload-tests' });
});
afterAll(async () => {
  await server?.stop();
});

function s3Storage(): S3Storage {
  counter += 1;
  return new S3Storage({
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    prefix: `direct-${process.pid}-${counter}`,
  });
}

function appFor(storage: S3Storage, maxFileSize = 256 * 1024): express.Express {
  const app = express();
  app.use('/direct', directUpload(storage, { authorize: () => true, allowedTypes: ['image/'], maxFileSize }));
  app.use(errorHandler({ log: false }));
  return app;
}

/** What the browser page does: the policy fields in order, then the file, as multipart POST. */
async function postToS3(upload: DirectUpload, data: Buffer, type: string): Promise<Response> {
  expect(upload.method).toBe('POST');
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  if (!('Content-Type' in upload.fields)) form.append('Content-Type', type);
  form.append(upload.fileField, new Blob([data], { type }), 'upload.bin');
  return fetch(upload.url, { method: 'POST', body: form });
}

describe('directUpload() against the S3 test server (presigned POST)', () => {
  it('presigns, takes the browser POST, confirms with sha256 and moves the object', async () => {
    const storage = s3Storage();
    const app = appFor(storage);
    const png = pngBytes(48, 48, 11);
    const grant = await supertest(app)
      .post('/direct/presign')
      .send({ size: png.length, contentType: 'image/png' });
    expect(grant.status).toBe(200);
    expect(grant.body.upload.fields['Content-Type']).toBe('image/png');
    const sent = await postToS3(grant.body.upload, png, 'image/png');
    expect(sent.ok).toBe(true);
    expect(await storage.exists(grant.body.uploadKey)).toBe(true);
    const done = await supertest(app)
      .post('/direct/confirm')
      .send({ uploadKey: grant.body.uploadKey, sha256: sha256(png), filename: 'photo.png' });
    expect(done.status).toBe(200);
    const file = done.body.file;
    expect(file).toMatchObject({ size: png.length, sha256: sha256(png), contentType: 'image/png' });
    expect(file.key).toMatch(/^uploads\/[0-9a-f-]{36}\.png$/);
    expect(file.url).toEqual(expect.any(String));
    expect((await collect((await storage.get(file.key)).body)).equals(png)).toBe(true);
    expect((await storage.head(file.key)).contentType).toBe('image/png');
    expect(await allKeys(storage)).toEqual([file.key]);
  });

  it('rejects and deletes executable bytes sent under an image type (415)', async () => {
    const storage = s3Storage();
    const app = appFor(storage);
    const grant = await supertest(app).post('/direct/presign').send({ contentType: 'image/png' });
    expect((await postToS3(grant.body.upload, elfBytes(), 'image/png')).ok).toBe(true);
    const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
    expect(done.status).toBe(415);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('an upload over maxFileSize is refused by the store itself (content-length-range): nothing to confirm', async () => {
    const storage = s3Storage();
    const app = appFor(storage, 4096);
    const grant = await supertest(app).post('/direct/presign').send({});
    const sent = await postToS3(grant.body.upload, pngBytes(64, 64, 2), 'image/png');
    expect(sent.status).toBe(400);
    expect(await sent.text()).toContain('<Code>EntityTooLarge</Code>');
    const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
    expect(done.status).toBe(404);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('confirm itself rejects and deletes an object over maxFileSize (413), for stores that do not enforce the policy', async () => {
    const storage = s3Storage();
    const app = appFor(storage, 4096);
    const grant = await supertest(app).post('/direct/presign').send({});
    // Written around the policy, as a store without POST policies would let it in.
    await storage.put(grant.body.uploadKey, pngBytes(64, 64, 2));
    const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
    expect(done.status).toBe(413);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('sweepStaged() deletes abandoned staged uploads and keeps the rest', async () => {
    const storage = s3Storage();
    const app = appFor(storage);
    const grant = await supertest(app).post('/direct/presign').send({});
    await postToS3(grant.body.upload, pngBytes(), 'image/png');
    await storage.put('uploads/kept.png', pngBytes());
    const report = await sweepStaged(storage, {
      olderThanHours: 1,
      now: new Date(Date.now() + 2 * 3_600_000),
    });
    expect(report.deleted).toEqual([grant.body.uploadKey]);
    expect(await allKeys(storage)).toEqual(['uploads/kept.png']);
  });
});
