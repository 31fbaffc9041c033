import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CSP } from '../../src/express/serve/index.js';
import {
  EXPRESS_VERSIONS,
  FELL_THROUGH,
  makeStorage,
  rawRequest,
  type Served,
  STORAGE_KINDS,
  type StorageFixture,
  serveApp,
} from './serve/harness.js';

const BIN = randomBytes(1000);

describe.each(EXPRESS_VERSIONS)('serve() headers on %s', (_name, makeExpress) => {
  describe.each(STORAGE_KINDS)('with %s storage', (kind) => {
    let fixture: StorageFixture;
    let served: Served;
    let attachmentApp: Served;
    let allowApp: Served;
    let strictApp: Served;

    beforeAll(async () => {
      fixture = await makeStorage(kind);
      const { storage } = fixture;
      await storage.put('docs/hello.txt', 'hello world', { contentType: 'text/plain' });
      await storage.put('bin/data.bin', BIN, { contentType: 'application/octet-stream' });
      await storage.put('page.html', '<script>alert(1)</script>', {
        contentType: 'text/html; charset=utf-8',
      });
      await storage.put('img/x.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>', {
        contentType: 'image/svg+xml',
      });
      await storage.put('empty.txt', '', { contentType: 'text/plain' });
      await storage.put('dir/ünï code.txt', 'unicode', { contentType: 'text/plain' });
      const disk = { dir: fixture.scratch };
      served = await serveApp(makeExpress, storage, { disk });
      attachmentApp = await serveApp(makeExpress, storage, {
        disk,
        activeContent: 'attachment',
        cacheControl: 'public, max-age=3600, immutable',
      });
      allowApp = await serveApp(makeExpress, storage, { disk, activeContent: 'allow', cacheControl: false });
      strictApp = await serveApp(makeExpress, storage, { disk, fallthrough: true, otherMethods: '405' });
    });

    afterAll(async () => {
      await Promise.all([served, attachmentApp, allowApp, strictApp].map((s) => s?.close()));
      await fixture?.close();
    });

    it('answers GET with content and representation headers', async () => {
      const res = await request(served.base).get('/files/docs/hello.txt');
      expect(res.status).toBe(200);
      expect(res.text).toBe('hello world');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['content-length']).toBe('11');
      expect(res.headers.etag).toMatch(/^(W\/)?"[^"]+"$/);
      expect(new Date(res.headers['last-modified']!).getTime()).not.toBeNaN();
      expect(res.headers['cache-control']).toBe('public, max-age=0');
      expect(res.headers['accept-ranges']).toBe('bytes');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBeUndefined();
      expect(res.headers['content-disposition']).toBeUndefined();
    });

    it('answers HEAD with the same headers and no body', async () => {
      const get = await request(served.base).get('/files/bin/data.bin');
      const head = await request(served.base).head('/files/bin/data.bin');
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('1000');
      expect(head.headers.etag).toBe(get.headers.etag);
      expect(head.headers['last-modified']).toBe(get.headers['last-modified']);
      expect(head.headers['content-type']).toBe('application/octet-stream');
      const raw = await rawRequest(served.base, '/files/bin/data.bin', { method: 'HEAD' });
      expect(raw.body.length).toBe(0);
    });

    it('serves keys with percent-encoded unicode and spaces', async () => {
      const res = await request(served.base).get(`/files/dir/${encodeURIComponent('ünï code.txt')}`);
      expect(res.status).toBe(200);
      expect(res.text).toBe('unicode');
    });

    describe('conditional requests', () => {
      let etag: string;
      let lastModified: string;
      beforeAll(async () => {
        const res = await request(served.base).get('/files/docs/hello.txt');
        etag = res.headers.etag!;
        lastModified = res.headers['last-modified']!;
      });

      it('If-None-Match with the current ETag → 304 without a body', async () => {
        const res = await request(served.base).get('/files/docs/hello.txt').set('If-None-Match', etag);
        expect(res.status).toBe(304);
        expect(res.headers.etag).toBe(etag);
        expect(res.headers['cache-control']).toBe('public, max-age=0');
        expect(res.text ?? '').toBe('');
      });

      it('If-None-Match uses weak comparison, lists and *', async () => {
        const weak = `W/${etag.replace(/^W\//, '')}`;
        expect(
          (await request(served.base).get('/files/docs/hello.txt').set('If-None-Match', weak)).status,
        ).toBe(304);
        expect(
          (await request(served.base).get('/files/docs/hello.txt').set('If-None-Match', `"nope", ${etag}`))
            .status,
        ).toBe(304);
        expect(
          (await request(served.base).get('/files/docs/hello.txt').set('If-None-Match', '*')).status,
        ).toBe(304);
        expect(
          (await request(served.base).head('/files/docs/hello.txt').set('If-None-Match', etag)).status,
        ).toBe(304);
      });

      it('If-None-Match with another ETag → 200', async () => {
        const res = await request(served.base).get('/files/docs/hello.txt').set('If-None-Match', '"other"');
        expect(res.status).toBe(200);
        expect(res.text).toBe('hello world');
      });

      it('If-Modified-Since at or after Last-Modified → 304; before → 200', async () => {
        const same = await request(served.base)
          .get('/files/docs/hello.txt')
          .set('If-Modified-Since', lastModified);
        expect(same.status).toBe(304);
        const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
        const res = await request(served.base).get('/files/docs/hello.txt').set('If-Modified-Since', earlier);
        expect(res.status).toBe(200);
        const garbage = await request(served.base)
          .get('/files/docs/hello.txt')
          .set('If-Modified-Since', 'yesterday');
        expect(garbage.status).toBe(200);
      });

      it('If-None-Match takes precedence over If-Modified-Since', async () => {
        const res = await request(served.base)
          .get('/files/docs/hello.txt')
          .set('If-None-Match', '"other"')
          .set('If-Modified-Since', lastModified);
        expect(res.status).toBe(200);
      });

      it('Cache-Control: no-cache from the client forces a full answer', async () => {
        const res = await request(served.base)
          .get('/files/docs/hello.txt')
          .set('If-None-Match', etag)
          .set('Cache-Control', 'no-cache');
        expect(res.status).toBe(200);
      });

      it('If-Match mismatch and If-Unmodified-Since in the past → 412', async () => {
        const match = await request(served.base).get('/files/docs/hello.txt').set('If-Match', '"other"');
        expect(match.status).toBe(412);
        expect(match.body.error.code).toBe('PRECONDITION_FAILED');
        const ok = await request(served.base).get('/files/docs/hello.txt').set('If-Match', etag);
        expect(ok.status).toBe(200);
        const past = new Date(Date.parse(lastModified) - 60_000).toUTCString();
        const unmodified = await request(served.base)
          .get('/files/docs/hello.txt')
          .set('If-Unmodified-Since', past);
        expect(unmodified.status).toBe(412);
      });
    });

    describe('ranges', () => {
      const get = (range: string, extra: Record<string, string> = {}) =>
        rawRequest(served.base, '/files/bin/data.bin', { headers: { Range: range, ...extra } });

      it('bytes=2-5 → 206 with Content-Range and the exact bytes', async () => {
        const res = await get('bytes=2-5');
        expect(res.status).toBe(206);
        expect(res.headers['content-range']).toBe('bytes 2-5/1000');
        expect(res.headers['content-length']).toBe('4');
        expect(res.body.equals(BIN.subarray(2, 6))).toBe(true);
      });

      it('suffix, open-ended and over-long ranges', async () => {
        const suffix = await get('bytes=-10');
        expect(suffix.status).toBe(206);
        expect(suffix.headers['content-range']).toBe('bytes 990-999/1000');
        expect(suffix.body.equals(BIN.subarray(990))).toBe(true);
        const open = await get('bytes=995-');
        expect(open.headers['content-range']).toBe('bytes 995-999/1000');
        expect(open.body.equals(BIN.subarray(995))).toBe(true);
        const long = await get('bytes=900-5000');
        expect(long.headers['content-range']).toBe('bytes 900-999/1000');
        expect(long.body.equals(BIN.subarray(900))).toBe(true);
        const whole = await get('bytes=0-');
        expect(whole.status).toBe(206);
        expect(whole.body.equals(BIN)).toBe(true);
      });

      it('several ranges: merged when they touch, else the whole object with 200', async () => {
        const merged = await get('bytes=0-9, 5-19, 20-29');
        expect(merged.status).toBe(206);
        expect(merged.headers['content-range']).toBe('bytes 0-29/1000');
        expect(merged.body.equals(BIN.subarray(0, 30))).toBe(true);
        const multi = await get('bytes=0-9, 100-109');
        expect(multi.status).toBe(200);
        expect(multi.headers['content-range']).toBeUndefined();
        expect(multi.body.equals(BIN)).toBe(true);
      });

      it('unsatisfiable → 416 with Content-Range: bytes */size', async () => {
        const res = await get('bytes=1000-2000');
        expect(res.status).toBe(416);
        expect(res.headers['content-range']).toBe('bytes */1000');
        expect(JSON.parse(res.body.toString()).error.code).toBe('INVALID_RANGE');
        expect((await get('bytes=-0')).status).toBe(416);
      });

      it('malformed ranges and other units are ignored (200)', async () => {
        for (const range of ['bytes=abc', 'bytes=5-2', 'items=0-5', 'bytes=', 'bytes=--1']) {
          const res = await get(range);
          expect(res.status, range).toBe(200);
          expect(res.body.equals(BIN), range).toBe(true);
        }
      });

      it('If-Range with the current ETag or a later date → 206; otherwise 200 full', async () => {
        const head = await request(served.base).head('/files/bin/data.bin');
        const etag = head.headers.etag!;
        const lastModified = head.headers['last-modified']!;
        expect((await get('bytes=0-3', { 'If-Range': etag })).status).toBe(206);
        const stale = await get('bytes=0-3', { 'If-Range': '"stale"' });
        expect(stale.status).toBe(200);
        expect(stale.body.equals(BIN)).toBe(true);
        expect((await get('bytes=0-3', { 'If-Range': `W/${etag.replace(/^W\//, '')}` })).status).toBe(200);
        expect((await get('bytes=0-3', { 'If-Range': lastModified })).status).toBe(206);
        const before = new Date(Date.parse(lastModified) - 60_000).toUTCString();
        expect((await get('bytes=0-3', { 'If-Range': before })).status).toBe(200);
      });

      it('HEAD ignores Range', async () => {
        const res = await rawRequest(served.base, '/files/bin/data.bin', {
          method: 'HEAD',
          headers: { Range: 'bytes=0-3' },
        });
        expect(res.status).toBe(200);
        expect(res.headers['content-length']).toBe('1000');
        expect(res.headers['content-range']).toBeUndefined();
      });

      it('an empty object: 200 with no bytes; any range is unsatisfiable', async () => {
        const res = await rawRequest(served.base, '/files/empty.txt');
        expect(res.status).toBe(200);
        expect(res.headers['content-length']).toBe('0');
        const ranged = await rawRequest(served.base, '/files/empty.txt', { headers: { Range: 'bytes=0-' } });
        expect(ranged.status).toBe(416);
        expect(ranged.headers['content-range']).toBe('bytes */0');
      });
    });

    describe('active content and downloads', () => {
      it('html and svg get a sandboxing CSP by default', async () => {
        for (const path of ['/files/page.html', '/files/img/x.svg']) {
          const res = await request(served.base).get(path);
          expect(res.status).toBe(200);
          expect(res.headers['content-security-policy']).toBe(SANDBOX_CSP);
          expect(res.headers['x-content-type-options']).toBe('nosniff');
        }
      });

      it('activeContent "attachment" forces a download; "allow" serves as is', async () => {
        const attached = await request(attachmentApp.base).get('/files/page.html');
        expect(attached.headers['content-disposition']).toBe('attachment; filename="page.html"');
        expect(attached.headers['cache-control']).toBe('public, max-age=3600, immutable');
        const allowed = await request(allowApp.base).get('/files/img/x.svg');
        expect(allowed.headers['content-disposition']).toBeUndefined();
        expect(allowed.headers['content-security-policy']).toBeUndefined();
        expect(allowed.headers['cache-control']).toBeUndefined();
        const text = await request(attachmentApp.base).get('/files/docs/hello.txt');
        expect(text.headers['content-disposition']).toBeUndefined();
      });

      it('?download=1 and ?download=name answer as an attachment', async () => {
        const one = await request(served.base).get('/files/docs/hello.txt?download=1');
        expect(one.headers['content-disposition']).toBe('attachment; filename="hello.txt"');
        const named = await request(served.base).get('/files/docs/hello.txt?download=report%20final.txt');
        expect(named.headers['content-disposition']).toBe('attachment; filename="report final.txt"');
        const unicode = await request(served.base).get(
          `/files/docs/hello.txt?download=${encodeURIComponent('résumé "x"/y.txt')}`,
        );
        expect(unicode.headers['content-disposition']).toBe(
          `attachment; filename="r_sum_ _x__y.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22_y.txt`,
        );
        const injected = await rawRequest(
          served.base,
          '/files/docs/hello.txt?download=a%0d%0aSet-Cookie:%20x=1',
        );
        expect(injected.headers['set-cookie']).toBeUndefined();
        expect(injected.headers['content-disposition']).toBe('attachment; filename="aSet-Cookie: x=1"');
      });
    });

    describe('errors, methods and fall-through', () => {
      it('a missing key → 404 JSON', async () => {
        const res = await request(served.base).get('/files/nope/missing.txt');
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body.error.code).toBe('NOT_FOUND');
        expect(typeof res.body.error.message).toBe('string');
        expect(JSON.stringify(res.body)).not.toMatch(/\bat .+:\d+:\d+/);
      });

      it('the mount root → 404, or next() with fallthrough', async () => {
        expect((await request(served.base).get('/files/')).status).toBe(404);
        expect((await request(strictApp.base).get('/files/')).status).toBe(FELL_THROUGH);
      });

      it('fallthrough: a missing key calls next()', async () => {
        const res = await request(strictApp.base).get('/files/nope/missing.txt');
        expect(res.status).toBe(FELL_THROUGH);
        expect((await request(strictApp.base).get('/files/docs/hello.txt')).status).toBe(200);
      });

      it('other methods: next() by default, 405 with Allow when configured', async () => {
        expect((await request(served.base).post('/files/docs/hello.txt')).status).toBe(FELL_THROUGH);
        const refused = await request(strictApp.base).delete('/files/docs/hello.txt');
        expect(refused.status).toBe(405);
        expect(refused.headers.allow).toBe('GET, HEAD');
        expect(refused.body.error.code).toBe('NOT_SUPPORTED');
      });

      it('an invalid key → 400 INVALID_KEY', async () => {
        const res = await rawRequest(served.base, '/files/a//b.txt');
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body.toString()).error.code).toBe('INVALID_KEY');
      });
    });
  });
});
