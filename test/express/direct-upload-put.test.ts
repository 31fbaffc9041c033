import express from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import type { DirectUpload, Storage } from '../../src/core/types.js';
import { directUpload } from '../../src/express/direct-upload/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { collect, sha256 } from '../helpers/streams.js';
import { describeEachS3Server, storageOn } from '../s3/harness.js';
import { elfBytes, pngBytes } from './upload/fixtures.js';
import { allKeys } from './upload/harness.js';

function appFor(storage: Storage, extra: { method?: 'POST' | 'PUT' } = {}): express.Express {
  const app = express();
  app.use(
    '/direct',
    directUpload(storage, {
      authorize: () => true,
      allowedTypes: ['image/'],
      maxFileSize: 64 * 1024,
      ...extra,
    }),
  );
  app.use(errorHandler({ log: false }));
  return app;
}

/** What a browser does with a PUT grant: the headers given, the file as the body (fetch sets Content-Length). */
function putToStore(upload: DirectUpload, body: Buffer, headers = upload.headers): Promise<Response> {
  return fetch(upload.url, { method: 'PUT', headers, body });
}

describeEachS3Server('directUpload() presigned PUT on a store without POST (r2 profile)', {}, (s3) => {
  let n = 0;
  // The r2 profile says: no browser POST. The test server stands in for R2's endpoint.
  const r2 = () => storageOn(s3.server, { preset: 'r2', prefix: `put-${process.pid}-${++n}` });

  it('grants a PUT with the size and type signed, takes the upload, and confirm publishes it', async () => {
    const storage = r2();
    const app = appFor(storage);
    const png = pngBytes(40, 40, 3);
    const grant = await supertest(app)
      .post('/direct/presign')
      .send({ size: png.length, contentType: 'image/png' });
    expect(grant.status).toBe(200);
    const { upload } = grant.body;
    expect(upload.method).toBe('PUT');
    expect(upload.headers).toEqual({ 'Content-Type': 'image/png' });
    expect(new URL(upload.url).searchParams.get('X-Amz-SignedHeaders')).toBe(
      'content-length;content-type;host',
    );
    const sent = await putToStore(upload, png);
    expect(sent.status).toBe(200);
    const done = await supertest(app)
      .post('/direct/confirm')
      .send({ uploadKey: grant.body.uploadKey, sha256: sha256(png), filename: 'p.png' });
    expect(done.status).toBe(200);
    expect(done.body.file).toMatchObject({ size: png.length, sha256: sha256(png), contentType: 'image/png' });
    expect((await collect((await storage.get(done.body.file.key)).body)).equals(png)).toBe(true);
  });

  s3.it('signatureChecks', 'the store refuses a body of another size, or another Content-Type', async () => {
    const storage = r2();
    const app = appFor(storage);
    const png = pngBytes(40, 40, 4);
    const grant = await supertest(app)
      .post('/direct/presign')
      .send({ size: png.length, contentType: 'image/png' });
    const { upload } = grant.body;
    const longer = await putToStore(upload, Buffer.concat([png, Buffer.alloc(10)]));
    expect(longer.status).toBe(403);
    expect(await longer.text()).toContain('SignatureDoesNotMatch');
    const otherType = await putToStore(upload, png, { 'Content-Type': 'text/html' });
    expect(otherType.status).toBe(403);
    await otherType.arrayBuffer();
    expect(await allKeys(storage)).toEqual([]);
  });

  it('a PUT grant needs the size up front; over the limit it is refused before any grant', async () => {
    const app = appFor(r2());
    const none = await supertest(app).post('/direct/presign').send({ contentType: 'image/png' });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/exact size/);
    const big = await supertest(app)
      .post('/direct/presign')
      .send({ size: 65 * 1024, contentType: 'image/png' });
    expect(big.status).toBe(413);
    const huge = r2().presignUpload('k.bin', { maxSize: 6 * 1024 ** 3, size: 5 * 1024 ** 3 + 1 });
    await expect(huge).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringMatching(/in parts/),
    });
  });

  it('confirm still sniffs the bytes: an executable sent as image/png is refused and deleted', async () => {
    const storage = r2();
    const app = appFor(storage);
    const elf = elfBytes();
    const grant = await supertest(app)
      .post('/direct/presign')
      .send({ size: elf.length, contentType: 'image/png' });
    expect((await putToStore(grant.body.upload, elf)).status).toBe(200);
    const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
    expect(done.status).toBe(415);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('Companion-style GET /s3/params answers the PUT grant; method: "POST" forces a policy on a POST store', async () => {
    const app = appFor(r2());
    const params = await supertest(app)
      .get('/direct/s3/params')
      .query({ filename: 'a.png', type: 'image/png', size: 100 });
    expect(params.status).toBe(200);
    expect(params.body).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'image/png' } });
    expect(params.body.key).toMatch(/^\.staging\//);
    const aws = storageOn(s3.server, { prefix: `put-${process.pid}-${++n}` });
    const post = await supertest(appFor(aws))
      .get('/direct/s3/params')
      .query({ filename: 'a.png', type: 'image/png' });
    expect(post.body).toMatchObject({ method: 'POST', fields: { 'Content-Type': 'image/png' } });
    const forced = await supertest(appFor(aws, { method: 'PUT' }))
      .post('/direct/presign')
      .send({ size: 10, contentType: 'image/png' });
    expect(forced.body.upload.method).toBe('PUT');
  });

  it('Companion-style POST (Uppy reports fields.key, the root prefix in front): confirm takes that key', async () => {
    const storage = storageOn(s3.server, { prefix: `put-${process.pid}-${++n}` });
    const app = appFor(storage);
    const png = pngBytes(24, 24, 8);
    const params = await supertest(app)
      .get('/direct/s3/params')
      .query({ filename: 'a.png', type: 'image/png' });
    const form = new FormData();
    for (const [name, value] of Object.entries(params.body.fields as Record<string, string>))
      form.append(name, value);
    form.append('file', new Blob([png], { type: 'image/png' }), 'a.png');
    const sent = await fetch(params.body.url, { method: 'POST', body: form });
    expect(sent.status).toBeLessThan(300);
    await sent.arrayBuffer();
    const reported = params.body.fields.key as string;
    expect(reported).toBe(`put-${process.pid}-${n}/${params.body.key}`);
    const done = await supertest(app).post('/direct/confirm').send({ uploadKey: reported });
    expect(done.status).toBe(200);
    expect(done.body.file).toMatchObject({ size: png.length, contentType: 'image/png' });
  });
});

describe('directUpload() multipart on a store without it', () => {
  it('answers 501 NOT_SUPPORTED and names the single upload instead', async () => {
    const res = await supertest(appFor(new MemoryStorage()))
      .post('/direct/s3/multipart')
      .send({ filename: 'a.png', type: 'image/png' });
    expect(res.status).toBe(501);
    expect(res.body.error.message).toMatch(/single upload/);
  });
});
