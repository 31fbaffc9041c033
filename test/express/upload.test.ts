import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { StowageError } from '../../src/core/errors.js';
import type { Storage } from '../../src/core/types.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { upload, uploadResult } from '../../src/express/upload/index.js';
import { pngBytes } from './upload/fixtures.js';
import { close, EXPRESS_VERSIONS, listen, uploadApp } from './upload/harness.js';
import { runUploadSuite } from './upload/suite.js';

class MemoryWithoutBeforeCommit extends MemoryStorage {
  override readonly capabilities = { ...new MemoryStorage().capabilities, beforeCommit: false };
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const STORAGES: Array<[string, () => Promise<Storage>]> = [
  [
    'local',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'stowage-upload-'));
      dirs.push(dir);
      return new LocalStorage({ root: dir, baseUrl: '/files' });
    },
  ],
  ['memory', async () => new MemoryStorage()],
  // Like Cloudinary: no two-phase writes, so files go to staging keys and are copied on success.
  ['memory without two-phase writes', async () => new MemoryWithoutBeforeCommit()],
];

for (const [storageName, makeStorage] of STORAGES) {
  for (const [expressName, makeExpress] of EXPRESS_VERSIONS) {
    runUploadSuite(storageName, makeStorage, expressName, makeExpress, {
      aborts: storageName === 'local' && expressName === 'express 5' ? 100 : 25,
      ...(storageName === 'local' ? { expectUrl: (key: string) => `/files/${key}` } : {}),
    });
  }
}

describe('upload() when the client keeps sending past the limit', () => {
  it('answers 413 at once and cuts the connection after drainLimit bytes', async () => {
    const s = new MemoryStorage();
    const { app } = uploadApp(EXPRESS_VERSIONS[0][1], s, { maxFileSize: 1024, drainLimit: 64 * 1024 });
    const { server, port } = await listen(app);
    try {
      const boundary = 'keepSending';
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n`,
      );
      const outcome = await new Promise<{ status: number | undefined; closed: boolean }>((resolve) => {
        const req = httpRequest({
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/upload',
          headers: {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(1 << 30),
          },
        });
        let status: number | undefined;
        req.on('response', (res) => {
          status = res.statusCode;
          res.resume();
        });
        req.on('error', () => undefined);
        req.on('close', () => resolve({ status, closed: true }));
        req.write(head);
        // Keep sending until the server hangs up: a client that never stops.
        const chunk = Buffer.alloc(16 * 1024, 1);
        const pump = (): void => {
          while (!req.destroyed && req.write(chunk)) {
            /* fill the buffer */
          }
          if (!req.destroyed) req.once('drain', pump);
        };
        pump();
      });
      expect(outcome.status).toBe(413);
      expect(outcome.closed).toBe(true);
      expect(s.size).toBe(0);
    } finally {
      await close(server);
    }
  });

  it('answers 400 instead of hanging when another body parser already read the body', async () => {
    const s = new MemoryStorage();
    for (const [, makeExpress] of EXPRESS_VERSIONS) {
      const app = makeExpress();
      app.use(makeExpress.raw({ type: 'multipart/form-data' }));
      app.post('/upload', upload(s), (_req, res) => {
        res.send('unreachable');
      });
      app.use(errorHandler({ log: false }));
      const res = await supertest(app).post('/upload').attach('f', pngBytes(), 'a.png');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/another body parser/);
    }
    expect(s.size).toBe(0);
  });

  it('fills req.body with the fields when nothing else did, and uploadResult(req) reads the result', async () => {
    const s = new MemoryStorage();
    for (const [, makeExpress] of EXPRESS_VERSIONS) {
      const app = makeExpress();
      // A global JSON parser leaves {} (Express 4) or nothing (Express 5) on multipart requests.
      app.use(makeExpress.json());
      app.post('/upload', upload(s), (req, res) => {
        res.json({ body: req.body, files: uploadResult(req).files.length });
      });
      const res = await supertest(app).post('/upload').field('a', 'b').attach('f', pngBytes(), 'a.png');
      expect(res.body).toEqual({ body: { a: 'b' }, files: 1 });
    }
  });

  it('uploadResult(req) throws INTERNAL, naming the fix, on a route without upload()', async () => {
    const app = EXPRESS_VERSIONS[0][1]();
    app.post('/no-upload', (req, res) => {
      res.json(uploadResult(req).files);
    });
    app.use(errorHandler({ log: false }));
    const res = await supertest(app).post('/no-upload').send('x');
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({
      code: 'INTERNAL',
      message: 'uploadResult(req): upload() did not run on this request; mount it before this handler',
    });
  });

  it('keeps hostile field names ("__proto__", "constructor") as plain fields', async () => {
    const s = new MemoryStorage();
    const app = EXPRESS_VERSIONS[0][1]();
    app.post('/upload', upload(s), (req, res) => {
      const fields = uploadResult(req).fields;
      res.json({
        plainPrototype: Object.getPrototypeOf(fields) === Object.prototype,
        proto: Object.getOwnPropertyDescriptor(fields, '__proto__')?.value,
        ctor: fields.constructor,
      });
    });
    const res = await supertest(app)
      .post('/upload')
      .field('__proto__', 'a')
      .field('__proto__', 'b')
      .field('constructor', 'c');
    expect(res.body).toEqual({ plainPrototype: true, proto: ['a', 'b'], ctor: 'c' });
  });

  it('validates its options', () => {
    const s = new MemoryStorage();
    expect(() => upload(s, { maxFileSize: 0 })).toThrow(StowageError);
    expect(() => upload(s, { allowedTypes: ['not a type'] })).toThrow(/allowedTypes/);
    expect(() => upload(s, { prefix: '.staging/x' })).toThrow(/stagingPrefix/);
    expect(() => upload({} as Storage)).toThrow(/storage must be a Storage/);
  });
});
