import type express from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { StowageError } from '../../../src/core/errors.js';
import type { Storage } from '../../../src/core/types.js';
import { abortAfter } from '../../helpers/raw-multipart.js';
import { collect, sha256 } from '../../helpers/streams.js';
import { elfBytes, multipartBody, pngBytes } from './fixtures.js';
import { close, listen, allKeys as listKeys, uploadApp } from './harness.js';

async function readBack(storage: Storage, key: string): Promise<Buffer> {
  return collect((await storage.get(key)).body);
}

const UPLOAD_KEY = /^uploads\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[a-z0-9]+)?$/;

export interface SuiteOptions {
  /** How many client aborts to simulate (multiples of 25). */
  aborts: number;
  /** The url() every stored file should report, when the backend has one. */
  expectUrl?: (key: string) => string;
  /** Keys the storage factory itself puts (left out of every "what is stored" check). */
  fixtureKeys?: string[];
}

/** The upload() behaviour every storage backend must show, on one Express version. */
export function runUploadSuite(
  storageName: string,
  makeStorage: () => Promise<Storage>,
  expressName: string,
  makeExpress: typeof express,
  suite: SuiteOptions,
): void {
  describe(`upload() on ${storageName} with ${expressName}`, () => {
    const fresh = makeStorage;
    const ignored = new Set(suite.fixtureKeys ?? []);
    const allKeys = async (s: Storage): Promise<string[]> =>
      (await listKeys(s)).filter((key) => !ignored.has(key));

    it('stores a real PNG under a random key with its sniffed type, size and sha256', async () => {
      const s = await fresh();
      const png = pngBytes(32, 32);
      const { app } = uploadApp(makeExpress, s, { allowedTypes: ['image/'] });
      const res = await supertest(app)
        .post('/upload')
        .field('title', 'holiday')
        .attach('photo', png, { filename: 'me.png', contentType: 'image/png' });
      expect(res.status).toBe(200);
      expect(res.body.fields).toEqual({ title: 'holiday' });
      const [file] = res.body.files;
      expect(file).toMatchObject({
        field: 'photo',
        size: png.length,
        sha256: sha256(png),
        contentType: 'image/png',
        originalName: 'me.png',
      });
      expect(file.key).toMatch(UPLOAD_KEY);
      expect(file.key.endsWith('.png')).toBe(true);
      if (suite.expectUrl) expect(file.url).toBe(suite.expectUrl(file.key));
      expect((await readBack(s, file.key)).equals(png)).toBe(true);
      expect((await s.head(file.key)).contentType).toBe('image/png');
      expect(await allKeys(s)).toEqual([file.key]);
    });

    it('takes several files and fields in one request', async () => {
      const s = await fresh();
      const a = pngBytes(8, 8, 1);
      const b = Buffer.from('plain text, no signature');
      const { app } = uploadApp(makeExpress, s);
      const res = await supertest(app)
        .post('/upload')
        .field('tag', 'one')
        .field('tag', 'two')
        .attach('a', a, 'a.png')
        .attach('b', b, 'notes.txt');
      expect(res.status).toBe(200);
      expect(res.body.fields).toEqual({ tag: ['one', 'two'] });
      expect(res.body.files).toHaveLength(2);
      const byField = Object.fromEntries(res.body.files.map((f: { field: string }) => [f.field, f]));
      expect(byField.b.contentType).toBe('application/octet-stream');
      expect(byField.b.key).toMatch(/^uploads\/[0-9a-f-]{36}$/);
      expect((await readBack(s, byField.a.key)).equals(a)).toBe(true);
      expect((await readBack(s, byField.b.key)).equals(b)).toBe(true);
      expect(await allKeys(s)).toEqual([byField.a.key, byField.b.key].sort());
    });

    it('refuses a .png name with executable bytes (415), whatever the client header says', async () => {
      const s = await fresh();
      const { app } = uploadApp(makeExpress, s, { allowedTypes: ['image/png', 'image/jpeg'] });
      const res = await supertest(app)
        .post('/upload')
        .attach('photo', elfBytes(), { filename: 'cat.png', contentType: 'image/png' });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_TYPE');
      expect(await allKeys(s)).toEqual([]);
    });

    it('refuses content with no recognisable signature when types are restricted (415)', async () => {
      const s = await fresh();
      const { app } = uploadApp(makeExpress, s, { allowedTypes: ['image/'] });
      const res = await supertest(app)
        .post('/upload')
        .attach('photo', Buffer.from('just text'), { filename: 'x.png', contentType: 'image/png' });
      expect(res.status).toBe(415);
      expect(await allKeys(s)).toEqual([]);
    });

    it('accepts a file of exactly maxFileSize and refuses one byte more (413), storing nothing', async () => {
      const s = await fresh();
      const limit = 64 * 1024;
      const { app } = uploadApp(makeExpress, s, { maxFileSize: limit, drainLimit: 1 << 24 });
      const ok = await supertest(app).post('/upload').attach('f', Buffer.alloc(limit, 1), 'a.bin');
      expect(ok.status).toBe(200);
      expect(ok.body.files[0].size).toBe(limit);
      const big = await supertest(app)
        .post('/upload')
        .attach('f', Buffer.alloc(limit + 1, 1), 'b.bin');
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('TOO_LARGE');
      const bigger = await supertest(app)
        .post('/upload')
        .attach('f', Buffer.alloc(limit * 8, 1), 'c.bin');
      expect(bigger.status).toBe(413);
      expect(await allKeys(s)).toEqual([ok.body.files[0].key]);
    });

    it('enforces maxFiles, maxFields and maxFieldSize (413) and stores nothing', async () => {
      const s = await fresh();
      const { app } = uploadApp(makeExpress, s, { maxFiles: 2, maxFields: 2, maxFieldSize: 10 });
      const files = await supertest(app)
        .post('/upload')
        .attach('a', pngBytes(), 'a.png')
        .attach('b', pngBytes(), 'b.png')
        .attach('c', pngBytes(), 'c.png');
      expect(files.status).toBe(413);
      expect(files.body.error.message).toMatch(/more than 2 files/);
      const fields = await supertest(app).post('/upload').field('a', '1').field('b', '2').field('c', '3');
      expect(fields.status).toBe(413);
      expect(fields.body.error.message).toMatch(/more than 2 fields/);
      const fieldSize = await supertest(app)
        .post('/upload')
        .field('a', 'x'.repeat(11))
        .attach('f', pngBytes(), 'f.png');
      expect(fieldSize.status).toBe(413);
      expect(await allKeys(s)).toEqual([]);
    });

    it('answers 400 for a request that is not multipart, a malformed body, or an unexpected file field', async () => {
      const s = await fresh();
      const { app } = uploadApp(makeExpress, s, { fileFields: ['photo'] });
      const json = await supertest(app).post('/upload').send({ a: 1 });
      expect(json.status).toBe(400);
      expect(json.body.error.code).toBe('INVALID_ARGUMENT');
      const truncated = multipartBody('XyZ', [{ name: 'photo', filename: 'a.png', data: pngBytes() }]);
      const malformed = await supertest(app)
        .post('/upload')
        .set('content-type', 'multipart/form-data; boundary=XyZ')
        .send(truncated.subarray(0, truncated.length - 20));
      expect(malformed.status).toBe(400);
      const unexpected = await supertest(app).post('/upload').attach('other', pngBytes(), 'a.png');
      expect(unexpected.status).toBe(400);
      expect(unexpected.body.error.message).toMatch(/unexpected file field/);
      expect(await allKeys(s)).toEqual([]);
    });

    it('never touches the object already at the final key when an upload fails', async () => {
      const s = await fresh();
      const original = pngBytes(4, 4, 7);
      await s.put('avatars/alice.png', original, { contentType: 'image/png' });
      const { app } = uploadApp(makeExpress, s, {
        maxFileSize: 32 * 1024,
        drainLimit: 1 << 24,
        key: () => 'avatars/alice.png',
      });
      const big = pngBytes(128, 128, 9);
      expect(big.length).toBeGreaterThan(32 * 1024);
      const res = await supertest(app).post('/upload').attach('avatar', big, 'alice.png');
      expect(res.status).toBe(413);
      expect((await readBack(s, 'avatars/alice.png')).equals(original)).toBe(true);
      const replaced = pngBytes(8, 8, 3);
      const ok = await supertest(app).post('/upload').attach('avatar', replaced, 'alice.png');
      expect(ok.status).toBe(200);
      expect(ok.body.files[0].key).toBe('avatars/alice.png');
      expect((await readBack(s, 'avatars/alice.png')).equals(replaced)).toBe(true);
      expect(await allKeys(s)).toEqual(['avatars/alice.png']);
    });

    it('when publishing fails midway, removes only the files it put at empty keys and keeps replaced ones', async () => {
      const s = await fresh();
      const old = Buffer.from('old avatar');
      await s.put('avatars/a', old);
      const { app, completed } = uploadApp(makeExpress, failingPublishOf(s, 'avatars/b'), {
        key: ({ field }) => `avatars/${field}`,
      });
      const files = { a: Buffer.from('new a'), b: Buffer.from('new b'), c: Buffer.from('new c') };
      const res = await supertest(app)
        .post('/upload')
        .attach('a', files.a, 'a.txt')
        .attach('b', files.b, 'b.txt')
        .attach('c', files.c, 'c.txt');
      expect(res.status).toBe(503);
      await completed(1);
      // "a" held an object: the old one was replaced before "b" failed; the new, verified one stays.
      expect((await readBack(s, 'avatars/a')).equals(files.a)).toBe(true);
      // "c" was empty: the failed request takes back what it put there. "b" never published.
      expect(await allKeys(s)).toEqual(['avatars/a']);
    });

    it('never turns hostile client file names into keys', async () => {
      const s = await fresh();
      const { app } = uploadApp(makeExpress, s);
      const names = [
        '../../etc/passwd.png',
        '..\\..\\windows\\win.ini',
        '/abs/olute.png',
        'ünïcödé 文件 📷.png',
        `${'a'.repeat(5 * 1024)}.png`,
        '.staging/evil.png',
      ];
      const keys: string[] = [];
      for (const name of names) {
        const png = pngBytes(4, 4, name.length);
        const res = await supertest(app).post('/upload').attach('f', png, { filename: name });
        expect(res.status, name.slice(0, 40)).toBe(200);
        const file = res.body.files[0];
        expect(file.key).toMatch(UPLOAD_KEY);
        expect(file.originalName).not.toMatch(/[\\/]/);
        expect(file.originalName.length).toBeLessThanOrEqual(255);
        expect((await readBack(s, file.key)).equals(png)).toBe(true);
        keys.push(file.key);
      }
      // A NUL inside a part header is malformed multipart: refused outright.
      const nul = await supertest(app).post('/upload').attach('f', pngBytes(), { filename: 'nul\u0000.png' });
      expect(nul.status).toBe(400);
      expect(await allKeys(s)).toEqual(keys.sort());
    });

    it('handles concurrent uploads independently', async () => {
      const s = await fresh();
      const { app } = uploadApp(makeExpress, s, { allowedTypes: ['image/png'] });
      const { server, port } = await listen(app);
      try {
        const bodies = Array.from({ length: 12 }, (_, i) => pngBytes(24, 24, i + 1));
        const results = await Promise.all(
          bodies.map((png, i) =>
            supertest(`http://127.0.0.1:${port}`)
              .post('/upload')
              .attach('f', i % 3 === 0 ? elfBytes() : png, `f${i}.png`),
          ),
        );
        const keys: string[] = [];
        for (const [i, res] of results.entries()) {
          if (i % 3 === 0) {
            expect(res.status).toBe(415);
            continue;
          }
          expect(res.status).toBe(200);
          const key = res.body.files[0].key;
          expect((await readBack(s, key)).equals(bodies[i]!)).toBe(true);
          keys.push(key);
        }
        expect(new Set(keys).size).toBe(8);
        expect(await allKeys(s)).toEqual(keys.sort());
      } finally {
        await close(server);
      }
    });

    it('answers 503 and leaves nothing behind when storage fails midway', async () => {
      const s = await fresh();
      const flaky = failingPuts(s);
      const { app, completed } = uploadApp(makeExpress, flaky);
      const res = await supertest(app)
        .post('/upload')
        .attach('f', Buffer.alloc(300 * 1024, 7), 'a.bin');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('UNAVAILABLE');
      await completed(1);
      expect(await allKeys(s)).toEqual([]);
    });

    it('leaves zero objects and zero staging leftovers after client aborts at random offsets', async () => {
      const s = await fresh();
      const { app, completed, outcomes } = uploadApp(makeExpress, s, { maxFileSize: 1 << 20 });
      const { server, port } = await listen(app);
      const count = suite.aborts;
      try {
        const boundary = 'abortBoundary42';
        const body = multipartBody(boundary, [
          { name: 'note', data: 'hello' },
          { name: 'f', filename: 'a.png', data: pngBytes(64, 64, 5) },
          { name: 'g', filename: 'b.bin', data: Buffer.alloc(40 * 1024, 3) },
        ]);
        for (let batch = 0; batch < count / 25; batch++) {
          await Promise.all(
            Array.from({ length: 25 }, () =>
              abortAfter(port, boundary, body, 1 + Math.floor(Math.random() * (body.length - 1))),
            ),
          );
          await completed((batch + 1) * 25);
          expect(await allKeys(s)).toEqual([]);
        }
        expect(outcomes).toHaveLength(count);
        for (const outcome of outcomes) {
          expect(outcome.ok).toBe(false);
          expect(outcome.error?.code).toBe('ABORTED');
        }
      } finally {
        await close(server);
      }
    });
  });
}

/** A storage whose put() reads part of the body and then fails like a dropped backend. */
function failingPuts(inner: Storage): Storage {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'put') return Reflect.get(target, prop, receiver);
      return async (key: string, body: AsyncIterable<Uint8Array>) => {
        let seen = 0;
        for await (const chunk of body) {
          seen += chunk.length;
          if (seen > 100 * 1024) throw new StowageError('UNAVAILABLE', `backend dropped writing "${key}"`);
        }
        throw new StowageError('UNAVAILABLE', 'backend unavailable');
      };
    },
  });
}

/**
 * Fails publishing one key, after the request passed every check: its commit
 * gate opens and then the backend errors (two-phase writes), or its copy from
 * the staging key errors (backends without them).
 */
function failingPublishOf(inner: Storage, failing: string): Storage {
  const unavailable = () => new StowageError('UNAVAILABLE', `backend dropped publishing "${failing}"`);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return (key: string, body: Parameters<Storage['put']>[1], opts: Parameters<Storage['put']>[2]) => {
          const gate = opts?.beforeCommit;
          if (key !== failing || !gate) return target.put(key, body, opts);
          return target.put(key, body, {
            ...opts,
            beforeCommit: async (staged) => {
              await gate(staged);
              throw unavailable();
            },
          });
        };
      }
      if (prop === 'copy') {
        return async (from: string, to: string) => {
          if (to === failing) throw unavailable();
          return target.copy(from, to);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}
