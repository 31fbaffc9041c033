import { randomBytes } from 'node:crypto';
import express from 'express';
import supertest from 'supertest';
import { expect, it } from 'vitest';
import type { Storage } from '../../src/core/types.js';
import type { MultipartGrant } from '../../src/express/direct-upload/index.js';
import { directUpload } from '../../src/express/direct-upload/index.js';
import type { AuthorizeContext, DirectUploadAction } from '../../src/express/direct-upload/options.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { collect, sha256 } from '../helpers/streams.js';
import { describeEachS3Server, storageOn } from '../s3/harness.js';
import { elfBytes, pngBytes } from './upload/fixtures.js';
import { allKeys } from './upload/harness.js';

const MiB = 1024 * 1024;

function appFor(storage: Storage, opts: { maxFileSize?: number; denied?: DirectUploadAction[] } = {}) {
  const seen: DirectUploadAction[] = [];
  const contexts: AuthorizeContext[] = [];
  const created: MultipartGrant[] = [];
  const app = express();
  app.use(
    '/direct',
    directUpload(storage, {
      authorize: (_req, context) => {
        seen.push(context.action);
        contexts.push(context);
        return !opts.denied?.includes(context.action);
      },
      onMultipartCreate: (grant) => {
        created.push(grant);
      },
      allowedTypes: ['image/'],
      maxFileSize: opts.maxFileSize ?? 16 * MiB,
    }),
  );
  app.use(errorHandler({ log: false }));
  return { app, seen, contexts, created };
}

/** An image the sniffer recognises, padded to `size` bytes. */
function pngOf(size: number): Buffer {
  const png = pngBytes(32, 32, 5);
  return Buffer.concat([png, randomBytes(size - png.length)]);
}

/** What Uppy's @uppy/aws-s3 does in Companion mode, part by part; returns the ETags. */
async function sendParts(
  app: express.Express,
  key: string,
  uploadId: string,
  data: Buffer,
  partSize: number,
): Promise<Array<{ PartNumber: number; ETag: string }>> {
  const count = Math.ceil(data.length / partSize);
  const numbers = Array.from({ length: count }, (_, i) => i + 1);
  const signed = await supertest(app)
    .get(`/direct/s3/multipart/${encodeURIComponent(uploadId)}/batch`)
    .query({ key, partNumbers: numbers.join(',') });
  expect(signed.status).toBe(200);
  const parts = [];
  for (const n of numbers) {
    const res = await fetch(signed.body.presignedUrls[n], {
      method: 'PUT',
      body: data.subarray((n - 1) * partSize, n * partSize),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    parts.push({ PartNumber: n, ETag: res.headers.get('etag')! });
  }
  return parts;
}

async function create(app: express.Express, type = 'image/png') {
  const res = await supertest(app)
    .post('/direct/s3/multipart')
    .send({ filename: 'big.png', type, metadata: { name: 'big.png' } });
  expect(res.status).toBe(200);
  return res.body as { key: string; uploadId: string; partSize: number; maxParts: number };
}

describeEachS3Server('directUpload() multipart (Companion routes)', {}, (s3) => {
  let n = 0;
  const fresh = () => storageOn(s3.server, { prefix: `mp-${process.pid}-${++n}` });
  it('create, batch-sign, list, complete, confirm: the file is published', async () => {
    const storage = fresh();
    const { app, seen, contexts, created } = appFor(storage);
    const data = pngOf(5 * MiB + 4096);
    const grant = await create(app);
    expect(created).toEqual([grant]);
    expect(grant.key).toMatch(/^\.staging\/[0-9a-f-]{36}$/);
    expect(grant.partSize).toBe(5 * MiB);
    expect(grant.maxParts).toBe(4);
    const parts = await sendParts(app, grant.key, grant.uploadId, data, grant.partSize);
    const listed = await supertest(app)
      .get(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}`)
      .query({ key: grant.key });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      { PartNumber: 1, Size: 5 * MiB, ETag: parts[0]!.ETag },
      { PartNumber: 2, Size: 4096, ETag: parts[1]!.ETag },
    ]);
    const one = await supertest(app)
      .get(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}/2`)
      .query({ key: grant.key });
    expect(one.body.url).toContain('partNumber=2');
    const done = await supertest(app)
      .post(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}/complete`)
      .query({ key: grant.key })
      .send({ parts });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ key: grant.key, size: data.length });
    expect(await storage.exists(grant.key)).toBe(true);
    const confirmed = await supertest(app)
      .post('/direct/confirm')
      .send({ uploadKey: done.body.key, sha256: sha256(data), filename: 'big.png' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.file).toMatchObject({ size: data.length, contentType: 'image/png' });
    expect((await collect((await storage.get(confirmed.body.file.key)).body)).equals(data)).toBe(true);
    expect(await allKeys(storage)).toEqual([confirmed.body.file.key]);
    // authorize sees which upload each request names, to check it against its owner.
    expect(contexts[1]).toMatchObject({ uploadKey: grant.key, uploadId: grant.uploadId });
    expect(seen).toEqual([
      'multipart-create',
      'multipart-sign',
      'multipart-list',
      'multipart-sign',
      'multipart-complete',
      'confirm',
    ]);
  });

  it('abort drops the upload: listing it answers 404 and nothing is pending', async () => {
    const storage = fresh();
    const { app } = appFor(storage);
    const grant = await create(app);
    await sendParts(app, grant.key, grant.uploadId, pngOf(5 * MiB), grant.partSize);
    const aborted = await supertest(app)
      .delete(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}`)
      .query({ key: grant.key });
    expect(aborted.status).toBe(200);
    const listed = await supertest(app)
      .get(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}`)
      .query({ key: grant.key });
    expect(listed.status).toBe(404);
    expect((await s3.server.pendingUploads()).filter((u) => u.includes(grant.key))).toEqual([]);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('over maxFileSize: a part past the limit is not signed, and complete refuses and aborts', async () => {
    const storage = fresh();
    const { app } = appFor(storage, { maxFileSize: 6 * MiB });
    const grant = await create(app);
    const past = await supertest(app)
      .get(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}/3`)
      .query({ key: grant.key });
    expect(past.status).toBe(413);
    // Two parts may still hold more than 6 MiB: the sum is checked before completing.
    const parts = await sendParts(app, grant.key, grant.uploadId, pngOf(7 * MiB), 5 * MiB);
    const done = await supertest(app)
      .post(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}/complete`)
      .query({ key: grant.key })
      .send({ parts });
    expect(done.status).toBe(413);
    expect(done.body.error.message).toMatch(/aborted/);
    expect((await s3.server.pendingUploads()).filter((u) => u.includes(grant.key))).toEqual([]);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('a declared size over the limit, or a type not allowed, is refused at create', async () => {
    const { app } = appFor(fresh(), { maxFileSize: 6 * MiB });
    const big = await supertest(app)
      .post('/direct/s3/multipart')
      .send({ filename: 'a.png', type: 'image/png', metadata: { size: String(7 * MiB) } });
    expect(big.status).toBe(413);
    const exe = await supertest(app)
      .post('/direct/s3/multipart')
      .send({ filename: 'a.exe', type: 'application/x-msdownload' });
    expect(exe.status).toBe(415);
  });

  it('bytes of a type not allowed are completed but refused at confirm, and deleted', async () => {
    const storage = fresh();
    const { app } = appFor(storage);
    const grant = await create(app);
    const elf = Buffer.concat([elfBytes(), randomBytes(5 * MiB)]);
    const parts = await sendParts(app, grant.key, grant.uploadId, elf, grant.partSize);
    const done = await supertest(app)
      .post(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}/complete`)
      .query({ key: grant.key })
      .send({ parts });
    expect(done.status).toBe(200);
    const confirmed = await supertest(app).post('/direct/confirm').send({ uploadKey: done.body.key });
    expect(confirmed.status).toBe(415);
    expect(await allKeys(storage)).toEqual([]);
  });

  it('a key outside the staging prefix is refused on every multipart route', async () => {
    const storage = fresh();
    await storage.put('uploads/victim.png', pngBytes());
    const { app } = appFor(storage);
    const grant = await create(app);
    const id = encodeURIComponent(grant.uploadId);
    for (const key of [
      'uploads/victim.png',
      '.staging/not-a-uuid',
      `${grant.key}/../../uploads/victim.png`,
    ]) {
      const answers = await Promise.all([
        supertest(app).get(`/direct/s3/multipart/${id}/1`).query({ key }),
        supertest(app).get(`/direct/s3/multipart/${id}/batch`).query({ key, partNumbers: '1' }),
        supertest(app).get(`/direct/s3/multipart/${id}`).query({ key }),
        supertest(app)
          .post(`/direct/s3/multipart/${id}/complete`)
          .query({ key })
          .send({ parts: [{ PartNumber: 1, ETag: '"x"' }] }),
        supertest(app).delete(`/direct/s3/multipart/${id}`).query({ key }),
        supertest(app).get(`/direct/s3/multipart/${id}/1`),
      ]);
      expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403, 403, 403]);
    }
    expect(await allKeys(storage)).toEqual(['uploads/victim.png']);
  });

  it('authorize refusing an action answers 403 and touches nothing', async () => {
    const storage = fresh();
    const { app } = appFor(storage, { denied: ['multipart-create', 'multipart-complete'] });
    const refused = await supertest(app)
      .post('/direct/s3/multipart')
      .send({ filename: 'a.png', type: 'image/png' });
    expect(refused.status).toBe(403);
    expect((await s3.server.pendingUploads()).filter((u) => u.startsWith(`mp-${process.pid}-${n}/`))).toEqual(
      [],
    );
    const { app: open } = appFor(storage);
    const grant = await create(open);
    const parts = await sendParts(open, grant.key, grant.uploadId, pngOf(8192), grant.partSize);
    const done = await supertest(app)
      .post(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}/complete`)
      .query({ key: grant.key })
      .send({ parts });
    expect(done.status).toBe(403);
    expect(await storage.exists(grant.key)).toBe(false);
    await supertest(open)
      .delete(`/direct/s3/multipart/${encodeURIComponent(grant.uploadId)}`)
      .query({ key: grant.key });
  });
});
