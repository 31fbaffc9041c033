import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { StowageError } from '../../src/core/errors.js';
import type { ObjectInfo } from '../../src/core/types.js';
import { serve } from '../../src/express/serve/index.js';
import { type Logger, setLogger } from '../../src/util/log.js';
import { registerSecret } from '../../src/util/redact.js';
import { failingStream } from '../helpers/streams.js';
import { CountingStorage, EXPRESS_VERSIONS, rawRequest, type Served, serveApp } from './serve/harness.js';

const SECRET_KEY = 'wJalrXUtnFEMI-test-only-secret';
const SIGNATURE = 'deadbeefcafebabe0123456789';

function failure(key: string): unknown {
  switch (key) {
    case 'down.txt':
      return new StowageError(
        'UNAVAILABLE',
        `GET https://AKIDTEST:${SECRET_KEY}@s3.example.test/b/down.txt?X-Amz-Signature=${SIGNATURE} timed out`,
        { retryAfter: 7 },
      );
    case 'down-no-hint.txt':
      return new StowageError('UNAVAILABLE', 'origin is down');
    case 'boom.txt':
      return new Error(`internal detail with ${SECRET_KEY} at Object.<anonymous> (/srv/app/x.js:1:2)`);
    case 'denied.txt':
      return new StowageError('ACCESS_DENIED', `access denied using secret ${SECRET_KEY}`);
    default:
      return undefined;
  }
}

const logged: string[] = [];
const quiet: Logger = { info: (m) => logged.push(m), warn: (m) => logged.push(m) };
const loud: Logger = { info: (m) => console.log(m), warn: (m) => console.warn(m) };

describe.each(EXPRESS_VERSIONS)('serve() errors on %s', (_name, makeExpress) => {
  let served: Served;

  beforeAll(async () => {
    setLogger(quiet);
    registerSecret(SECRET_KEY);
    const memory = new MemoryStorage();
    await memory.put('cut.bin', Buffer.alloc(10));
    const origin = new CountingStorage(memory);
    const head = async (key: string): Promise<ObjectInfo> => {
      const err = failure(key);
      if (err) throw err;
      const info = await memory.head(key);
      return key === 'cut.bin' ? { ...info, size: 1_000_000 } : info;
    };
    origin.head = head;
    origin.get = async (key) => {
      const info = await head(key);
      return { info, body: failingStream(100_000, 10_000) };
    };
    served = await serveApp(makeExpress, origin, { memory: false, disk: false });
  });

  afterAll(async () => {
    setLogger(loud);
    await served?.close();
  });

  it('UNAVAILABLE → 503 with the error’s Retry-After, and no credentials in the body', async () => {
    const res = await rawRequest(served.base, '/files/down.txt');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    const body = JSON.parse(res.body.toString());
    expect(body.error.code).toBe('UNAVAILABLE');
    const text = res.body.toString();
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toMatch(/\n\s+at /);
    // The 5xx is logged, redacted.
    expect(logged.some((line) => line.includes('UNAVAILABLE'))).toBe(true);
    expect(logged.join('\n')).not.toContain(SECRET_KEY);
    expect(logged.join('\n')).not.toContain(SIGNATURE);
  });

  it('UNAVAILABLE without a hint → Retry-After 5', async () => {
    const res = await rawRequest(served.base, '/files/down-no-hint.txt');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
  });

  it('an unknown error → 500 INTERNAL with a generic message', async () => {
    const res = await rawRequest(served.base, '/files/boom.txt');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body.toString())).toEqual({
      error: { code: 'INTERNAL', message: 'internal error' },
    });
  });

  it('ACCESS_DENIED → 403 with a redacted message', async () => {
    const res = await rawRequest(served.base, '/files/denied.txt');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString()).error.code).toBe('ACCESS_DENIED');
    expect(res.body.toString()).not.toContain(SECRET_KEY);
  });

  it('HEAD errors carry the status and no body', async () => {
    const res = await rawRequest(served.base, '/files/down.txt', { method: 'HEAD' });
    expect(res.status).toBe(503);
    expect(res.body.length).toBe(0);
  });

  it('an origin failing mid-body cuts the connection instead of sending a short 200', async () => {
    const outcome = await rawRequest(served.base, '/files/cut.bin').then(
      (res) => ({ ok: true as const, res }),
      (err: Error) => ({ ok: false as const, err }),
    );
    if (outcome.ok) {
      // Headers went out: the body must come up short of the announced length.
      expect(outcome.res.body.length).toBeLessThan(1_000_000);
    } else {
      expect(outcome.err.message).toMatch(/aborted|socket hang up|ECONNRESET/i);
    }
  });
});

describe('serve() arguments', () => {
  it('rejects a missing storage and bad options with INVALID_ARGUMENT', () => {
    expect(() => serve(undefined as never)).toThrowError(/needs a Storage/);
    const storage = new MemoryStorage();
    expect(() => serve(storage, { cacheControl: 'x\r\ny' })).toThrowError(/cacheControl/);
    expect(() => serve(storage, { activeContent: 'maybe' as never })).toThrowError(/activeContent/);
    expect(() => serve(storage, { memory: { maxBytes: -1 } })).toThrowError(/maxBytes/);
    expect(() => serve(storage, { revalidateAfter: Number.NaN })).toThrowError(/revalidateAfter/);
    expect(() => serve(storage, { redirect: { expiresIn: 0 } })).toThrowError(/expiresIn/);
    expect(() => serve(storage, { otherMethods: 'ignore' as never })).toThrowError(/otherMethods/);
  });
});

describe('serve() without Express (plain node:http)', () => {
  it('uses only Node response methods: serves, ranges and falls through', async () => {
    const storage = new MemoryStorage();
    await storage.put('a/b.txt', 'plain node');
    const handler = serve(storage, { disk: false, fallthrough: true });
    const server = createServer((req, res) =>
      handler(req, res, () => {
        res.statusCode = 418;
        res.end();
      }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await rawRequest(base, '/a/b.txt?x=1');
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).toBe('plain node');
      const ranged = await rawRequest(base, '/a/b.txt', { headers: { Range: 'bytes=6-' } });
      expect(ranged.status).toBe(206);
      expect(ranged.body.toString()).toBe('node');
      expect((await rawRequest(base, '/missing')).status).toBe(418);
    } finally {
      server.close();
      await handler.close();
    }
  });
});
