import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ArtifactsHandle, artifacts } from '../../src/loader/index.js';
import type { Manifest } from '../../src/loader/manifest.js';
import { readiness } from '../../src/loader/readiness.js';
import { type GateProxy, startGateProxy } from '../e2e/gate-proxy.js';
import { expectCode } from '../helpers/streams.js';
import { storageOn } from '../s3/harness.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { blob, captureLogs, removeDir, tempDir } from './fixtures.js';

// The store sits behind a gate: while it is closed the download is in progress for as long as a test needs.
const weights = blob(200_000);
let s3: S3TestServer;
let gateProxy: GateProxy;
let appRoot: string;
let cacheDir: string;
let logs: ReturnType<typeof captureLogs>;
const servers: http.Server[] = [];
const loads: ArtifactsHandle[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
  await storageOn(s3, { maxRetries: 0 }).put('blobs/weights', weights.data);
  gateProxy = await startGateProxy(Number(new URL(s3.endpoint).port), false);
});

afterAll(async () => {
  await gateProxy.stop();
  await s3.stop();
});

beforeEach(async () => {
  appRoot = await tempDir('stowage-app-');
  cacheDir = await tempDir('stowage-cache-');
  logs = captureLogs();
  gateProxy.close();
});

afterEach(async () => {
  gateProxy.open();
  // Every load finishes before its directories go.
  await Promise.allSettled(loads.splice(0).map((h) => h.ready));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  logs.restore();
  await Promise.all([appRoot, cacheDir].map(removeDir));
});

/** A fresh S3 client per load: its first connection goes through the (closed) gate. */
function load(sha256 = weights.sha256): ArtifactsHandle {
  const manifest: Manifest = {
    version: 1,
    storage: 's3://unused',
    files: [{ path: 'models/x.onnx', key: 'blobs/weights', size: weights.data.length, sha256 }],
  };
  const handle = artifacts({
    root: appRoot,
    cacheDir,
    storage: storageOn(s3, { endpoint: gateProxy.endpoint, maxRetries: 0 }),
    manifest,
    progressInterval: 0,
    retries: 0,
    attempts: 1,
  });
  loads.push(handle);
  return handle;
}

async function serve(gate: express.RequestHandler): Promise<string> {
  const app = express();
  app.use(gate);
  app.get('/', (_req, res) => {
    res.send('hello');
  });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function held(gate: { held: number }, n: number): Promise<void> {
  await vi.waitFor(() => expect(gate.held).toBe(n), { timeout: 20_000, interval: 10 });
}

describe('readiness: holding requests while the artifacts load', () => {
  it('a request made during loading is held and answered 200 once ready', async () => {
    const handle = load();
    const gate = handle.middleware();
    const url = await serve(gate);
    const answer = fetch(url);
    await held(gate, 1);
    expect(handle.isReady()).toBe(false);
    gateProxy.open();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello');
    expect(gate.held).toBe(0);
  });

  it('a request held past the bound gets 503 with Retry-After and the loading status', async () => {
    const handle = load();
    const gate = handle.middleware({ hold: 200, retryAfter: 2 });
    const res = await fetch(await serve(gate));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ state: 'loading', error: 'artifacts are still loading' });
    expect(handle.isReady()).toBe(false);
    expect(gate.held).toBe(0);
  });

  it('a failed load answers the held requests with the failure at once', async () => {
    const handle = load(weights.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    const gate = handle.middleware(); // the default 25 s bound: the answer can only come from the failure
    const url = await serve(gate);
    const answers = [fetch(url), fetch(url)];
    await held(gate, 2);
    gateProxy.open();
    for (const res of await Promise.all(answers)) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({
        state: 'failed',
        error: expect.stringMatching(/sha256|CHECKSUM|mismatch/i),
      });
    }
    await expect(handle.ready).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(gate.held).toBe(0);
    // After the failure nothing is held: the answer is at once.
    const late = await fetch(url);
    expect(late.status).toBe(503);
    expect(gate.held).toBe(0);
  });

  it('a client that disconnects releases its hold at once', async () => {
    const handle = load();
    const gate = handle.middleware();
    const url = await serve(gate);
    const client = new AbortController();
    const gone = fetch(url, { signal: client.signal }).catch((err: Error) => err);
    const stays = fetch(url);
    await held(gate, 2);
    client.abort();
    expect(await gone).toBeInstanceOf(Error);
    await held(gate, 1);
    gateProxy.open();
    expect((await stays).status).toBe(200);
    expect(gate.held).toBe(0);
  });

  it('beyond maxHeld a request gets 503 at once; the held one still goes on', async () => {
    const handle = load();
    const gate = handle.middleware({ maxHeld: 1 });
    const url = await serve(gate);
    const first = fetch(url);
    await held(gate, 1);
    const second = await fetch(url);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(await second.json()).toMatchObject({ state: 'loading' });
    expect(gate.held).toBe(1);
    gateProxy.open();
    expect((await first).status).toBe(200);
  });

  it('hold: 0 answers 503 at once while loading', async () => {
    const gate = load().middleware({ hold: 0 });
    const res = await fetch(await serve(gate));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ state: 'loading' });
  });
});

describe('readiness: the health path', () => {
  it('answers 503 + JSON status while loading (never held), then 200 once ready', async () => {
    const handle = load();
    const gate = handle.middleware({ healthPath: '/healthz' });
    const url = await serve(gate);
    const app = fetch(url); // an ordinary request is held meanwhile
    await held(gate, 1);
    const early = await fetch(`${url}/healthz?probe=1`);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('5');
    expect(early.headers.get('cache-control')).toBe('no-store');
    expect(await early.json()).toMatchObject({ state: 'loading', held: 1 });

    gateProxy.open();
    await handle.ready;
    const late = await fetch(`${url}/healthz`);
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ state: 'ready', held: 0 });
    expect((await app).status).toBe(200);
  });
});

describe('readiness options', () => {
  const source = { isReady: () => false, status: () => ({}), ready: new Promise(() => undefined) };

  it('refuses a hold of 30 s or more (Heroku drops the request first) unless allowLongHold', async () => {
    const err = await expectCode(
      Promise.resolve().then(() => readiness(source, { hold: 30_000 })),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toMatch(/below 30000 ms.*H12.*allowLongHold/);
    expect(() => readiness(source, { hold: 60_000, allowLongHold: true })).not.toThrow();
  });

  it('refuses bad maxHeld, hold and healthPath values, and holding without a ready promise', async () => {
    for (const opts of [{ maxHeld: -1 }, { hold: 1.5 }, { healthPath: 'healthz' }]) {
      await expectCode(
        Promise.resolve().then(() => readiness(source, opts)),
        'INVALID_ARGUMENT',
      );
    }
    const plain = { isReady: () => false, status: () => ({}) };
    const err = await expectCode(
      Promise.resolve().then(() => readiness(plain)),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toMatch(/"ready" promise.*hold: 0/);
    expect(() => readiness(plain, { hold: 0 })).not.toThrow();
  });
});
