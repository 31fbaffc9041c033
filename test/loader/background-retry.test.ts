import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3Storage } from '../../adapters/s3/index.js';
import { type ArtifactsStatus, artifacts } from '../../src/loader/index.js';
import type { Manifest } from '../../src/loader/manifest.js';
import { setLogger } from '../../src/util/log.js';
import { expectCode } from '../helpers/streams.js';
import { storageOn } from '../s3/harness.js';
import { type FlakyProxy, startFlakyProxy } from '../servers/s3-flaky-proxy.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { buildForChildren } from './build-child.js';
import { blob, removeDir, tempDir } from './fixtures.js';

const weights = blob(300_000);
let s3: S3TestServer;
let proxy: FlakyProxy;
let store: S3Storage;
let appRoot: string;
let cacheDir: string;
let manifest: Manifest;
let lines: string[];

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startFlakyProxy(s3.endpoint);
  const direct = storageOn(s3, { maxRetries: 0 });
  await direct.put('blobs/weights', weights.data);
  // The app's store is behind the proxy, the SDK's own retries off: an outage reaches the loader at once.
  store = storageOn(s3, { endpoint: proxy.endpoint, maxRetries: 0 });
  manifest = {
    version: 1,
    storage: 's3://unused',
    files: [
      { path: 'models/x.onnx', key: 'blobs/weights', size: weights.data.length, sha256: weights.sha256 },
    ],
  };
});

afterAll(async () => {
  await proxy.stop();
  await s3.stop();
});

beforeEach(async () => {
  appRoot = await tempDir('stowage-app-');
  cacheDir = await tempDir('stowage-cache-');
  lines = [];
  setLogger({ info: (m) => lines.push(m), warn: (m) => lines.push(m) });
});

afterEach(async () => {
  proxy.failNext(0);
  proxy.release();
  setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
  await Promise.all([appRoot, cacheDir].map(removeDir));
});

const base = () => ({
  root: appRoot,
  cacheDir,
  storage: store,
  manifest,
  progressInterval: 0,
  retries: 0,
  maxRetryDelay: 20,
});

async function statusOverHttp(
  handle: ReturnType<typeof artifacts>,
): Promise<{ status: number; body: ArtifactsStatus & { error: string } }> {
  const gate = handle.middleware({ hold: 0 }); // mid-run answers, not held
  const server = http.createServer((req, res) => gate(req, res, () => res.end('ok')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const text = await res.text();
    return {
      status: res.status,
      body: (res.status === 503 ? JSON.parse(text) : text) as ArtifactsStatus & { error: string },
    };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('artifacts() failure policy', () => {
  it('a store outage at boot: retried in the background, visible in status() and the gate, then ready', async () => {
    proxy.failNext(1_000_000); // 503 SlowDown until further notice
    let retrying: ArtifactsStatus | undefined;
    // Logged when a run failed and the next is scheduled: the moment the state is 'retrying'.
    setLogger({
      info: (m) => lines.push(m),
      warn: (m) => {
        lines.push(m);
        if (!retrying && m.includes('retrying in')) {
          retrying = handle.status();
          // The outage ends, but the next run's requests wait, so the gate can be asked mid-run.
          proxy.failNext(0);
          proxy.hold(() => true);
        }
      },
    });
    const handle = artifacts(base());
    while (proxy.held === 0) await new Promise((r) => setTimeout(r, 10));

    expect(retrying).toMatchObject({ state: 'retrying', attempt: 1 });
    expect(Date.parse(retrying?.nextRetryAt ?? '')).toBeGreaterThan(0);
    expect(retrying?.lastError).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(retrying?.lastError?.message).toContain('blobs/weights');
    const during = await statusOverHttp(handle);
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ state: 'loading', attempt: 2, lastError: { code: 'UNAVAILABLE' } });
    expect(during.body.nextRetryAt).toBeUndefined();

    proxy.release();
    const [file] = await handle.ready;
    expect((await readFile(join(appRoot, 'models/x.onnx'))).equals(weights.data)).toBe(true);
    expect(file?.source).toBe('download');
    expect(handle.status()).toMatchObject({ state: 'ready', attempt: 2 });
    expect((await statusOverHttp(handle)).status).toBe(200);
    expect(lines.join('\n')).toMatch(/artifacts: attempt 1 failed: .*; retrying in \d+\.\d s/);
  });

  it('attempts bounds the runs: the last retryable failure is final, ready rejects', async () => {
    proxy.failNext(1_000_000);
    const before = proxy.count;
    const handle = artifacts({ ...base(), attempts: 3 });
    const err = await expectCode(handle.ready, 'UNAVAILABLE');
    expect(handle.status()).toMatchObject({ state: 'failed', attempt: 3, error: err.message });
    expect(handle.status().nextRetryAt).toBeUndefined();
    // One probe per run, each answered 503.
    expect(proxy.count - before).toBe(3);
    expect(lines.join('\n')).toContain('artifacts failed after 3 attempts (UNAVAILABLE)');
  });

  it('a failure that time cannot fix (CHECKSUM_MISMATCH) is final at once: no second run', async () => {
    const wrong = { ...manifest, files: [{ ...manifest.files[0]!, sha256: 'ab'.repeat(32) }] };
    const handle = artifacts({ ...base(), manifest: wrong });
    await expectCode(handle.ready, 'CHECKSUM_MISMATCH');
    const { status, body } = await statusOverHttp(handle);
    expect(status).toBe(503);
    expect(body).toMatchObject({
      state: 'failed',
      attempt: 1,
      lastError: { code: 'CHECKSUM_MISMATCH', retryable: false },
    });
    expect(body.error).toMatch(/sha256 mismatch/);
    expect(lines.some((l) => l.includes('retrying in'))).toBe(false);
  });

  it('rejects a bad policy at once with INVALID_ARGUMENT', () => {
    expect(() => artifacts({ ...base(), onFailure: 'crash' as never })).toThrow(
      /onFailure must be 'stay' or 'exit'/,
    );
    expect(() => artifacts({ ...base(), attempts: 0 })).toThrow(/attempts/);
    expect(() => artifacts({ ...base(), maxRetryDelay: -1 })).toThrow(/maxRetryDelay/);
    // Longer than a timer can wait: it would fire after 1 ms and hammer the store.
    expect(() => artifacts({ ...base(), maxRetryDelay: 2 ** 31 })).toThrow(/maxRetryDelay must be between/);
  });
});

describe("onFailure: 'exit' (in a child process)", () => {
  let child: { script: string; dir: string };
  let storageRoot: string;
  beforeAll(async () => {
    child = await buildForChildren(join(import.meta.dirname, 'child-artifacts.ts'));
    storageRoot = await tempDir('stowage-remote-');
    await mkdir(join(storageRoot, 'blobs'));
    await writeFile(join(storageRoot, 'blobs', 'weights'), weights.data);
  });
  afterAll(async () => {
    await Promise.all([child.dir, storageRoot].map(removeDir));
  });

  function runChild(
    options: Record<string, unknown>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const wrong = { ...manifest, files: [{ ...manifest.files[0]!, sha256: 'ab'.repeat(32) }] };
    const args = { storageRoot, options: { root: appRoot, cacheDir, manifest: wrong, ...options } };
    return new Promise((resolve) => {
      const proc = execFile(process.execPath, [child.script, JSON.stringify(args)], (_err, stdout, stderr) =>
        resolve({ code: proc.exitCode, stdout, stderr }),
      );
    });
  }

  it('a final failure logs one clear line and exits with code 1, so the platform restarts the dyno', async () => {
    const { code, stdout, stderr } = await runChild({ onFailure: 'exit' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /\[stowage\] artifacts failed \(CHECKSUM_MISMATCH\): models\/x\.onnx: sha256 mismatch.*; exiting with code 1 \(onFailure: 'exit'\)/,
    );
  });

  it("by default ('stay') the process stays up with the failure in status()", async () => {
    const { code, stdout, stderr } = await runChild({});
    expect(code).toBe(0);
    expect(stdout).toBe('still up, state failed\n');
    expect(stderr).toContain('artifacts failed (CHECKSUM_MISMATCH)');
  });
});
