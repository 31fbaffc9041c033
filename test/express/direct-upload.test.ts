import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type express from 'express';
import supertest from 'supertest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { StowageError } from '../../src/core/errors.js';
import type { Storage } from '../../src/core/types.js';
import {
  type DirectUploadOptions,
  directUpload,
  sweepStaged,
} from '../../src/express/direct-upload/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { collect, sha256 } from '../helpers/streams.js';
import { elfBytes, pngBytes } from './upload/fixtures.js';
import { allKeys, EXPRESS_VERSIONS } from './upload/harness.js';
import { presigningStorage } from './upload/presigning-storage.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function localStorage(): Promise<LocalStorage> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-direct-'));
  dirs.push(dir);
  return new LocalStorage({ root: dir, baseUrl: '/files' });
}

function directApp(
  makeExpress: typeof express,
  storage: Storage,
  options: Partial<DirectUploadOptions> = {},
  parseJsonFirst = false,
): express.Express {
  const app = makeExpress();
  if (parseJsonFirst) app.use(makeExpress.json());
  app.use('/direct', directUpload(storage, { authorize: () => true, ...options }));
  app.use(errorHandler({ log: false }));
  return app;
}

/** What a browser does with the presign answer. */
async function sendToGrant(
  upload: { url: string; method: string; headers: Record<string, string> },
  data: Buffer,
) {
  return fetch(upload.url, { method: upload.method, headers: upload.headers, body: data });
}

for (const [expressName, makeExpress] of EXPRESS_VERSIONS) {
  for (const parseJsonFirst of [false, true]) {
    describe(`directUpload() with ${expressName}${parseJsonFirst ? ' after express.json()' : ''}`, () => {
      let inner: LocalStorage;
      let storage: Storage;
      let stop: () => Promise<void>;
      beforeEach(async () => {
        inner = await localStorage();
        ({ storage, stop } = await presigningStorage(inner));
      });
      afterEach(async () => {
        await stop();
      });

      it('presigns, takes the browser upload, confirms and moves it to its final key', async () => {
        const app = directApp(makeExpress, storage, { allowedTypes: ['image/'], maxFileSize: 1 << 20 });
        const png = pngBytes(40, 40, 3);
        const grant = await supertest(app)
          .post('/direct/presign')
          .send({ size: png.length, contentType: 'image/png' });
        expect(grant.status).toBe(200);
        expect(grant.body.uploadKey).toMatch(/^\.staging\/[0-9a-f-]{36}$/);
        expect(grant.body.maxSize).toBe(1 << 20);
        expect((await sendToGrant(grant.body.upload, png)).status).toBe(200);
        const done = await supertest(app)
          .post('/direct/confirm')
          .send({ uploadKey: grant.body.uploadKey, sha256: sha256(png), filename: '../me.png' });
        expect(done.status).toBe(200);
        const file = done.body.file;
        expect(file).toMatchObject({
          size: png.length,
          sha256: sha256(png),
          contentType: 'image/png',
          originalName: 'me.png',
        });
        expect(file.key).toMatch(/^uploads\/[0-9a-f-]{36}\.png$/);
        expect(file.url).toBe(`/files/${file.key}`);
        expect((await collect((await inner.get(file.key)).body)).equals(png)).toBe(true);
        expect(await allKeys(inner)).toEqual([file.key]);
      });

      it('stores the sniffed type, not the one the browser sent', async () => {
        const app = directApp(makeExpress, storage);
        const png = pngBytes(8, 8, 4);
        const grant = await supertest(app).post('/direct/presign').send({});
        const upload = { ...grant.body.upload, headers: { 'content-type': 'text/plain' } };
        expect((await sendToGrant(upload, png)).status).toBe(200);
        const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(done.status).toBe(200);
        expect((await inner.head(done.body.file.key)).contentType).toBe('image/png');
        expect(await allKeys(inner)).toEqual([done.body.file.key]);
      });

      it('rejects and deletes an upload whose bytes are not an allowed type (415)', async () => {
        const app = directApp(makeExpress, storage, { allowedTypes: ['image/png'] });
        const grant = await supertest(app).post('/direct/presign').send({ contentType: 'image/png' });
        expect((await sendToGrant(grant.body.upload, elfBytes())).status).toBe(200);
        const done = await supertest(app)
          .post('/direct/confirm')
          .send({ uploadKey: grant.body.uploadKey, filename: 'cat.png' });
        expect(done.status).toBe(415);
        expect(done.body.error.code).toBe('UNSUPPORTED_TYPE');
        expect(await allKeys(inner)).toEqual([]);
      });

      it('refuses a declared type outside allowedTypes at presign (415)', async () => {
        const app = directApp(makeExpress, storage, { allowedTypes: ['image/'] });
        const res = await supertest(app)
          .post('/direct/presign')
          .send({ contentType: 'application/x-msdownload' });
        expect(res.status).toBe(415);
      });

      it('rejects and deletes an upload whose sha256 differs (422)', async () => {
        const app = directApp(makeExpress, storage);
        const png = pngBytes(8, 8, 5);
        const grant = await supertest(app).post('/direct/presign').send({});
        await sendToGrant(grant.body.upload, png);
        const done = await supertest(app)
          .post('/direct/confirm')
          .send({ uploadKey: grant.body.uploadKey, sha256: sha256('something else') });
        expect(done.status).toBe(422);
        expect(done.body.error.code).toBe('CHECKSUM_MISMATCH');
        expect(await allKeys(inner)).toEqual([]);
      });

      it('enforces maxFileSize at presign, at the backend and again at confirm (413)', async () => {
        const app = directApp(makeExpress, storage, { maxFileSize: 1000 });
        const early = await supertest(app).post('/direct/presign').send({ size: 1001 });
        expect(early.status).toBe(413);
        const grant = await supertest(app).post('/direct/presign').send({});
        expect((await sendToGrant(grant.body.upload, Buffer.alloc(1001, 1))).status).toBe(413);
        // Bytes that got staged anyway (a backend that cannot enforce the limit) are refused at confirm.
        await inner.put(grant.body.uploadKey, Buffer.alloc(1001, 1));
        const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(done.status).toBe(413);
        expect(await allKeys(inner)).toEqual([]);
      });

      it('confirms only keys it issued, and only once', async () => {
        await inner.put('uploads/precious.png', pngBytes());
        await inner.put('.staging/not-a-uuid', pngBytes());
        const app = directApp(makeExpress, storage);
        for (const uploadKey of [
          'uploads/precious.png',
          '.staging/not-a-uuid',
          '.staging/../uploads/precious.png',
          42,
        ]) {
          const res = await supertest(app).post('/direct/confirm').send({ uploadKey });
          expect(res.status).toBe(400);
        }
        const missing = await supertest(app)
          .post('/direct/confirm')
          .send({ uploadKey: '.staging/00000000-0000-4000-8000-000000000000' });
        expect(missing.status).toBe(404);
        const grant = await supertest(app).post('/direct/presign').send({});
        await sendToGrant(grant.body.upload, pngBytes(4, 4, 9));
        expect(
          (await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey })).status,
        ).toBe(200);
        expect(
          (await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey })).status,
        ).toBe(404);
        expect(await inner.exists('uploads/precious.png')).toBe(true);
        expect(await inner.exists('.staging/not-a-uuid')).toBe(true);
      });

      it('publishes the bytes it checked even when the grant is used again while confirm runs', async () => {
        const png = pngBytes(16, 16, 6);
        const html = Buffer.concat([Buffer.from('<html><script>'), Buffer.alloc(png.length - 14, 32)]);
        let grant: { body: { uploadKey: string; upload: Parameters<typeof sendToGrant>[0] } };
        let reposted = false;
        // The browser posts other bytes of the same size to the still-valid grant while confirm checks.
        const racing = new Proxy(storage, {
          get(target, prop, receiver) {
            if (prop !== 'get') return Reflect.get(target, prop, receiver);
            return async (key: string, opts?: Parameters<Storage['get']>[1]) => {
              if (!reposted) {
                reposted = true;
                expect((await sendToGrant(grant.body.upload, html)).status).toBe(200);
              }
              return target.get(key, opts);
            };
          },
        });
        const app = directApp(makeExpress, racing, { allowedTypes: ['image/png'] });
        grant = await supertest(app).post('/direct/presign').send({ contentType: 'image/png' });
        expect((await sendToGrant(grant.body.upload, png)).status).toBe(200);
        const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(reposted).toBe(true);
        expect(done.status).toBe(200);
        expect(done.body.file.contentType).toBe('image/png');
        expect((await collect((await inner.get(done.body.file.key)).body)).equals(png)).toBe(true);
        // The late bytes stay staged, unconfirmed, for the sweeper.
        expect(await allKeys(inner)).toEqual([grant.body.uploadKey, done.body.file.key].sort());
      });

      it('keeps the upload when storage fails while moving it, so the retry confirms it', async () => {
        let failures = 1;
        const flaky = new Proxy(storage, {
          get(target, prop, receiver) {
            if (prop !== 'copy' && prop !== 'put') return Reflect.get(target, prop, receiver);
            const original = Reflect.get(target, prop, receiver) as (...args: unknown[]) => Promise<unknown>;
            return async (...args: unknown[]) => {
              const destination = String(prop === 'copy' ? args[1] : args[0]);
              if (destination.startsWith('uploads/') && failures-- > 0) {
                throw new StowageError('UNAVAILABLE', 'backend dropped the copy', { retryable: true });
              }
              return original.apply(target, args);
            };
          },
        });
        const app = directApp(makeExpress, flaky);
        const png = pngBytes(8, 8, 7);
        const grant = await supertest(app).post('/direct/presign').send({});
        await sendToGrant(grant.body.upload, png);
        const first = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(first.status).toBe(503);
        const retry = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(retry.status).toBe(200);
        expect((await collect((await inner.get(retry.body.file.key)).body)).equals(png)).toBe(true);
        expect(await allKeys(inner)).toEqual([retry.body.file.key]);
      });

      it('calls onPresign and onConfirm with what it answers', async () => {
        const presigned: string[] = [];
        const confirmed: string[] = [];
        const app = directApp(makeExpress, storage, {
          onPresign: (answer) => {
            presigned.push(answer.uploadKey);
          },
          onConfirm: async (file) => {
            confirmed.push(file.key);
          },
        });
        const grant = await supertest(app).post('/direct/presign').send({});
        await sendToGrant(grant.body.upload, pngBytes());
        const done = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(presigned).toEqual([grant.body.uploadKey]);
        expect(confirmed).toEqual([done.body.file.key]);
      });

      it('asks authorize() for each action and answers 403 unless it returns true', async () => {
        const seen: string[] = [];
        const app = directApp(makeExpress, storage, {
          authorize: (req, { action }) => {
            seen.push(action);
            return req.headers['x-user'] === 'alice';
          },
        });
        expect((await supertest(app).post('/direct/presign').send({})).status).toBe(403);
        const grant = await supertest(app).post('/direct/presign').set('x-user', 'alice').send({});
        expect(grant.status).toBe(200);
        await sendToGrant(grant.body.upload, pngBytes());
        const denied = await supertest(app).post('/direct/confirm').send({ uploadKey: grant.body.uploadKey });
        expect(denied.status).toBe(403);
        expect(denied.body.error.code).toBe('ACCESS_DENIED');
        expect(seen).toEqual(['presign', 'presign', 'confirm']);
      });

      it('answers 400 for bodies that are not JSON objects and passes other routes on', async () => {
        const app = directApp(makeExpress, storage);
        const text = await supertest(app)
          .post('/direct/presign')
          .set('content-type', 'application/json')
          .send('[1,2]');
        expect(text.status).toBe(400);
        expect((await supertest(app).get('/direct/presign')).status).toBe(404);
        expect((await supertest(app).post('/direct/other').send({})).status).toBe(404);
      });
    });
  }
}

describe('directUpload() on a backend without browser uploads', () => {
  it('answers 501 NOT_SUPPORTED with a clear message', async () => {
    const app = directApp(EXPRESS_VERSIONS[0][1], await localStorage());
    const res = await supertest(app).post('/direct/presign').send({});
    expect(res.status).toBe(501);
    expect(res.body.error.code).toBe('NOT_SUPPORTED');
    expect(res.body.error.message).toMatch(/use upload\(\) instead/);
  });

  it('validates its options', async () => {
    const s = await localStorage();
    expect(() => directUpload(s, {} as DirectUploadOptions)).toThrow(/authorize/);
    expect(() => directUpload(s, { authorize: () => true, maxFileSize: 0 })).toThrow(StowageError);
    expect(() => directUpload(s, { authorize: () => true, prefix: '.staging' })).toThrow(/stagingPrefix/);
  });
});

describe('sweepStaged()', () => {
  it('deletes staged objects older than the cutoff and nothing else', async () => {
    const s = await localStorage();
    await s.put('.staging/a', 'a');
    await s.put('.staging/b', 'b');
    await s.put('uploads/kept.png', 'k');
    await s.put('.stagingish/other', 'o');
    const hour = 3_600_000;
    const young = await sweepStaged(s, { olderThanHours: 24, now: new Date(Date.now() + hour) });
    expect(young).toEqual({ deleted: [], kept: 2, unknownAge: 0 });
    const dry = await sweepStaged(s, {
      olderThanHours: 24,
      now: new Date(Date.now() + 25 * hour),
      dryRun: true,
    });
    expect(dry.deleted).toEqual(['.staging/a', '.staging/b']);
    expect(await allKeys(s)).toHaveLength(4);
    const swept = await sweepStaged(s, { olderThanHours: 24, now: new Date(Date.now() + 25 * hour) });
    // Local storage has no multipart uploads: nothing about them in the report.
    expect(swept).toEqual({ deleted: ['.staging/a', '.staging/b'], kept: 0, unknownAge: 0 });
    expect(await allKeys(s)).toEqual(['.stagingish/other', 'uploads/kept.png']);
  });

  it('validates its options', async () => {
    const s = await localStorage();
    await expect(sweepStaged(s, { prefix: '' })).rejects.toThrow(/must not be empty/);
    await expect(sweepStaged(s, { olderThanHours: -1 })).rejects.toThrow(/olderThanHours/);
    await expect(sweepStaged(s, { prefix: '../x' })).rejects.toThrow(StowageError);
  });
});
