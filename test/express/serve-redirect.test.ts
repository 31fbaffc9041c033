import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { encodeKeyPath } from '../../src/core/keys.js';
import type { Storage, UrlOptions } from '../../src/core/types.js';
import { UrlCache } from '../../src/express/serve/redirect.js';
import { randomData } from '../helpers/streams.js';
import {
  CountingStorage,
  EXPRESS_VERSIONS,
  makeStorage,
  rawRequest,
  type Served,
  type StorageFixture,
  serveApp,
} from './serve/harness.js';

const SIGNING_KEY = 'test-only-signing-key';

function sign(key: string, expires: number): string {
  return createHmac('sha256', SIGNING_KEY).update(`${key}\n${expires}`).digest('hex');
}

/**
 * Stand-in for a bucket that signs URLs (until the S3 test server is in the
 * matrix): LocalStorage whose url() returns an HMAC-signed, expiring URL
 * served by a tiny static server that checks the signature.
 */
class SigningStorage extends CountingStorage {
  constructor(
    inner: Storage,
    private readonly base: () => string,
  ) {
    super(inner);
    (this as { capabilities: Storage['capabilities'] }).capabilities = {
      ...inner.capabilities,
      signedUrls: true,
    };
  }
  override async url(key: string, opts?: UrlOptions): Promise<string> {
    this.urls.push(key);
    const expires = Math.floor(Date.now() / 1000) + (opts?.expiresIn ?? 3600);
    const download = opts?.download ? `&download=${encodeURIComponent(String(opts.download))}` : '';
    return `${this.base()}/signed/${encodeKeyPath(key)}?expires=${expires}&sig=${sign(key, expires)}${download}`;
  }
}

async function startSignedServer(storage: Storage): Promise<{ server: Server; base: string }> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = decodeURIComponent(url.pathname.replace(/^\/signed\//, ''));
    const expires = Number(url.searchParams.get('expires'));
    const given = Buffer.from(url.searchParams.get('sig') ?? '', 'hex');
    const wanted = Buffer.from(sign(key, expires), 'hex');
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted) || expires * 1000 < Date.now()) {
      res.writeHead(403).end('bad signature');
      return;
    }
    try {
      const { info, body } = await storage.get(key);
      res.writeHead(200, {
        'Content-Length': info.size,
        'Content-Type': info.contentType ?? 'application/octet-stream',
      });
      pipeline(body, res, () => undefined);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const DATA = randomData(5000);

describe.each(EXPRESS_VERSIONS)('serve() redirect mode on %s', (_name, makeExpress) => {
  let fixture: StorageFixture;
  let signed: { server: Server; base: string };
  let origin: SigningStorage;
  let served: Served;
  let unsigned: Served;
  let notSigning: Served;

  beforeAll(async () => {
    fixture = await makeStorage('local');
    await fixture.storage.put('assets/model.bin', DATA);
    signed = await startSignedServer(fixture.storage);
    origin = new SigningStorage(fixture.storage, () => signed.base);
    served = await serveApp(makeExpress, origin, { redirect: { expiresIn: 600 }, disk: false });
    const cdn = new LocalStorage({
      root: (fixture.storage as LocalStorage).root,
      baseUrl: 'https://cdn.example.test/files',
    });
    unsigned = await serveApp(makeExpress, cdn, { redirect: true, disk: false });
    notSigning = await serveApp(makeExpress, fixture.storage, { redirect: { expiresIn: 60 }, disk: false });
  });

  afterAll(async () => {
    await Promise.all([served?.close(), unsigned?.close(), notSigning?.close()]);
    signed?.server.close();
    await fixture?.close();
  });

  it('answers 302 to a signed URL that fetch can read', async () => {
    const res = await rawRequest(served.base, '/files/assets/model.bin');
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.body.length).toBe(0);
    const location = res.headers.location!;
    expect(location.startsWith(`${signed.base}/signed/assets/model.bin?`)).toBe(true);
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(DATA)).toBe(true);
    // fetch follows the redirect from serve() itself, too.
    const followed = await fetch(`${served.base}/files/assets/model.bin`);
    expect(Buffer.from(await followed.arrayBuffer()).equals(DATA)).toBe(true);
  });

  it('reuses a signed URL instead of signing on every request; download gets its own URL', async () => {
    const a = await rawRequest(served.base, '/files/assets/model.bin');
    origin.reset();
    const b = await rawRequest(served.base, '/files/assets/model.bin', { method: 'HEAD' });
    expect(b.status).toBe(302);
    expect(b.headers.location).toBe(a.headers.location);
    const dl = await rawRequest(served.base, '/files/assets/model.bin?download=weights.bin');
    expect(dl.headers.location).toContain('download=weights.bin');
    expect(origin.urls).toEqual(['assets/model.bin']); // only the download variant was signed
    expect(origin.gets).toEqual([]); // no byte went through the app
  });

  it('keys are still validated before any URL is made', async () => {
    origin.reset();
    const res = await rawRequest(served.base, '/files/%2e%2e/secret.txt');
    expect(res.status).toBe(400);
    expect(origin.urls).toEqual([]);
  });

  it('redirect: true on an adapter that does not sign uses its public URL', async () => {
    const res = await rawRequest(unsigned.base, '/files/assets/model.bin?download=1');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://cdn.example.test/files/assets/model.bin?download=1');
  });

  it('asking an adapter that cannot sign for a signed URL → 501 NOT_SUPPORTED', async () => {
    const res = await rawRequest(notSigning.base, '/files/assets/model.bin');
    expect(res.status).toBe(501);
    expect(JSON.parse(res.body.toString()).error.code).toBe('NOT_SUPPORTED');
  });
});

describe.each(EXPRESS_VERSIONS)('serve() redirect mode with S3 signed URLs on %s', (_name, makeExpress) => {
  let fixture: StorageFixture;
  let origin: CountingStorage;
  let served: Served;

  beforeAll(async () => {
    fixture = await makeStorage('s3');
    await fixture.storage.put('assets/model.bin', DATA, { contentType: 'application/octet-stream' });
    origin = new CountingStorage(fixture.storage);
    served = await serveApp(makeExpress, origin, { redirect: true, disk: false });
  });

  afterAll(async () => {
    await served?.close();
    await fixture?.close();
  });

  it('302 to a presigned GetObject URL that fetch reads byte for byte', async () => {
    const res = await rawRequest(served.base, '/files/assets/model.bin');
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location!);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(location.searchParams.has('X-Amz-Signature')).toBe(true);
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(DATA)).toBe(true);
    const again = await rawRequest(served.base, '/files/assets/model.bin');
    expect(again.headers.location).toBe(res.headers.location);
    expect(origin.urls).toEqual(['assets/model.bin']);
    expect(origin.gets).toEqual([]);
  });
});

describe('UrlCache', () => {
  it('hands out a signed URL until max(30 s, 20 %) of its life is left, then signs again', async () => {
    let now = 1_000_000;
    let signed = 0;
    const storage = { url: async () => `https://x.test/${++signed}` } as unknown as Storage;
    const cache = new UrlCache(storage, 100, 60_000, () => now);
    expect(await cache.get('k', undefined)).toBe('https://x.test/1');
    now += 69_000; // 31 s of life left
    expect(await cache.get('k', undefined)).toBe('https://x.test/1');
    now += 2_000; // 29 s left: too close to expiry
    expect(await cache.get('k', undefined)).toBe('https://x.test/2');
    expect(await cache.get('k', true)).toBe('https://x.test/3');
  });

  it('never caches a URL whose whole life is inside the safety margin', async () => {
    let signed = 0;
    const storage = { url: async () => `https://x.test/${++signed}` } as unknown as Storage;
    const cache = new UrlCache(storage, 20, 60_000, () => 0);
    await cache.get('k', undefined);
    expect(await cache.get('k', undefined)).toBe('https://x.test/2');
  });
});
