import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/loader/index.js';
import { expectCode } from '../helpers/streams.js';
import { type FaultProxy, startFaultProxy } from '../servers/fault-proxy.js';
import { type HfHubEmulator, startHfHub } from '../servers/hf-hub.js';
import { buildForChildren } from './build-child.js';
import { blob, removeDir, tempDir } from './fixtures.js';

const SIZE = 2 * 1024 * 1024 + 777; // several parts, the last one short
const PART = 256 * 1024;
const PARTS = Math.ceil(SIZE / PART);

let hub: HfHubEmulator;
let proxy: FaultProxy;
let cacheDir: string;
let first: string;
const model = blob(SIZE);
const pr = blob(50_000);
const data = blob(40_000);
const gated = blob(30_000);
const config = Buffer.from('{"model_type":"bert"}\n');

beforeAll(async () => {
  hub = await startHfHub();
  proxy = await startFaultProxy(hub.cdnUrl);
  first = hub.addRepo('acme/tiny', [
    { path: 'config.json', data: config },
    { path: 'onnx/model.onnx', data: model.data },
  ]);
  hub.commit('acme/tiny', [{ path: 'onnx/model.onnx', data: pr.data }], { branch: 'refs/pr/1' });
  hub.addRepo('acme/corpus', [{ path: 'data/train.bin', data: data.data }], { type: 'dataset' });
  hub.addRepo('acme/gated', [{ path: 'model.bin', data: gated.data }], { gated: true });
});

afterAll(async () => {
  await proxy?.stop();
  await hub?.stop();
});

beforeEach(async () => {
  cacheDir = await tempDir('stowage-cache-');
  hub.resetLog();
  hub.redirectTo(hub.cdnUrl);
  proxy.rules = {};
  proxy.resetStats();
});

afterEach(async () => {
  await removeDir(cacheDir);
});

const opts = (extra: Record<string, unknown> = {}) => ({
  cacheDir,
  hfEndpoint: hub.url,
  partSize: PART,
  concurrency: 4,
  progressInterval: 0,
  ...extra,
});
const requests = (server: 'hub' | 'cdn') => hub.log.filter((r) => r.server === server);

async function leftovers(): Promise<string[]> {
  const tmp = await readdir(join(cacheDir, 'tmp')).catch(() => [] as string[]);
  const locks = await readdir(join(cacheDir, 'locks')).catch(() => [] as string[]);
  return [...tmp, ...locks];
}

describe('loadModel from hf://', () => {
  it('cold: one HEAD at the hub, ranges straight from the CDN, verified against X-Linked-Etag', async () => {
    const path = await loadModel('hf://acme/tiny/onnx/model.onnx', opts());
    expect(path).toBe(join(cacheDir, 'blobs', 'sha256', model.sha256.slice(0, 2), model.sha256));
    expect((await readFile(path)).equals(model.data)).toBe(true);
    expect(requests('hub').map((r) => `${r.method} ${r.url}`)).toEqual([
      'HEAD /acme/tiny/resolve/main/onnx/model.onnx',
    ]);
    const cdn = requests('cdn');
    expect(cdn).toHaveLength(PARTS);
    expect(cdn.every((r) => r.method === 'GET' && /^bytes=\d+-\d+$/.test(String(r.headers.range)))).toBe(
      true,
    );
    expect(await leftovers()).toEqual([]);
  });

  it('a non-LFS file (config.json) is served by the hub, pinned to the commit, hashed while streaming', async () => {
    const path = await loadModel('hf://acme/tiny/config.json', opts());
    expect((await readFile(path)).equals(config)).toBe(true);
    expect(requests('cdn')).toHaveLength(0);
    expect(requests('hub').map((r) => `${r.method} ${r.url}`)).toEqual([
      'HEAD /acme/tiny/resolve/main/config.json',
      `GET /acme/tiny/resolve/${first}/config.json`,
    ]);
  });

  it('warm with zero requests when pinned: a sha256, or a commit revision', async () => {
    await loadModel('hf://acme/tiny/onnx/model.onnx', opts());
    hub.resetLog();
    await loadModel('hf://acme/tiny/onnx/model.onnx', opts({ sha256: model.sha256, size: SIZE }));
    expect(hub.log).toHaveLength(0);

    await loadModel(`hf://acme/tiny@${first}/config.json`, opts());
    hub.resetLog();
    expect(
      (await readFile(await loadModel(`hf://acme/tiny@${first}/config.json`, opts()))).equals(config),
    ).toBe(true);
    expect(hub.log).toHaveLength(0);

    // A branch can move: unpinned, a warm hit still asks the hub once (HEAD), and downloads nothing.
    await loadModel('hf://acme/tiny/onnx/model.onnx', opts());
    expect(hub.log.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('a commit revision still loads that commit after the branch moved', async () => {
    const moved = blob(20_000);
    const before = hub.addRepo('acme/moving', [{ path: 'w.bin', data: model.data }]);
    hub.commit('acme/moving', [{ path: 'w.bin', data: moved.data }]);
    const old = await loadModel(`hf://acme/moving@${before}/w.bin`, opts());
    expect((await readFile(old)).equals(model.data)).toBe(true);
    const now = await loadModel('hf://acme/moving/w.bin', opts());
    expect((await readFile(now)).equals(moved.data)).toBe(true);
  });

  it('the token goes to the hub host only, never to the CDN', async () => {
    const path = await loadModel('hf://acme/gated/model.bin', opts({ hfToken: hub.token }));
    expect((await readFile(path)).equals(gated.data)).toBe(true);
    expect(requests('hub').length).toBeGreaterThan(0);
    expect(requests('cdn').length).toBeGreaterThan(0);
    for (const r of requests('hub')) expect(r.headers.authorization).toBe(`Bearer ${hub.token}`);
    for (const r of requests('cdn')) {
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.headers)).not.toContain(hub.token);
    }
    expect(new URL(hub.cdnUrl).host).not.toBe(new URL(hub.url).host);
  });

  it('HF_TOKEN and HF_ENDPOINT from the environment are used; the token never appears in an error', async () => {
    const saved = { token: process.env.HF_TOKEN, endpoint: process.env.HF_ENDPOINT };
    process.env.HF_TOKEN = hub.token;
    process.env.HF_ENDPOINT = hub.url;
    try {
      const path = await loadModel('hf://acme/gated/model.bin', opts({ hfEndpoint: undefined }));
      expect((await readFile(path)).equals(gated.data)).toBe(true);
      const err = await expectCode(
        loadModel('hf://acme/gated/missing.bin', opts({ hfEndpoint: undefined })),
        'NOT_FOUND',
      );
      expect(err.message).not.toContain(hub.token);
      expect(err.message).toContain('missing.bin');
    } finally {
      for (const [name, value] of [
        ['HF_TOKEN', saved.token],
        ['HF_ENDPOINT', saved.endpoint],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('a gated repo without a token: ACCESS_DENIED with the HF_TOKEN and terms hint', async () => {
    const err = await expectCode(
      loadModel('hf://acme/gated/model.bin', opts({ retries: 0 })),
      'ACCESS_DENIED',
    );
    expect(err.message).toMatch(/HF_TOKEN/);
    expect(err.message).toMatch(/accept the repo's terms/);
    expect(err.message).toContain(`${hub.url}/acme/gated`);
    expect(requests('cdn')).toHaveLength(0);
  });

  it('404s name the repo, revision and path', async () => {
    const missing = await expectCode(loadModel('hf://acme/tiny@main/nope.onnx', opts()), 'NOT_FOUND');
    expect(missing.message).toContain('nope.onnx');
    expect(missing.message).toContain('acme/tiny');
    expect(missing.message).toContain('"main"');
    const rev = await expectCode(loadModel('hf://acme/tiny@v9/config.json', opts()), 'NOT_FOUND');
    expect(rev.message).toMatch(/revision "v9" not found in acme\/tiny/);
    const repo = await expectCode(loadModel('hf://acme/none/config.json', opts()), 'NOT_FOUND');
    expect(repo.message).toMatch(/acme\/none/);
  });

  it('wrong bytes from the CDN (not matching X-Linked-Etag): CHECKSUM_MISMATCH, nothing left in the cache', async () => {
    const bad = Buffer.from(pr.data);
    bad[100] = (bad[100] as number) ^ 0xff;
    hub.corrupt(pr.sha256, bad);
    try {
      const err = await expectCode(
        loadModel('hf://acme/tiny@refs%2Fpr%2F1/onnx/model.onnx', opts()),
        'CHECKSUM_MISMATCH',
      );
      expect(err.message).toContain(pr.sha256);
      expect(await leftovers()).toEqual([]);
      expect(await readdir(join(cacheDir, 'blobs')).catch(() => [])).toEqual([]);
    } finally {
      hub.corrupt(pr.sha256, pr.data);
    }
  });

  it('429 with Retry-After: waits as told, then succeeds', async () => {
    hub.fail({ count: 2, status: 429, retryAfter: 1 });
    const path = await loadModel('hf://acme/tiny/config.json', opts());
    expect((await readFile(path)).equals(config)).toBe(true);
    const hubLog = requests('hub');
    expect(hubLog.map((r) => r.status)).toEqual([429, 429, 200, 206]);
    // Jittered backoff alone would wait under 0.5 s; Retry-After: 1 says a second.
    expect((hubLog[1]?.at ?? 0) - (hubLog[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((hubLog[2]?.at ?? 0) - (hubLog[1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('refs/pr/1 (encoded) and a datasets/ repo', async () => {
    const a = await loadModel('hf://acme/tiny@refs%2Fpr%2F1/onnx/model.onnx', opts());
    expect((await readFile(a)).equals(pr.data)).toBe(true);
    expect(requests('hub')[0]?.url).toBe('/acme/tiny/resolve/refs%2Fpr%2F1/onnx/model.onnx');
    const b = await loadModel('hf://datasets/acme/corpus/data/train.bin', opts());
    expect((await readFile(b)).equals(data.data)).toBe(true);
    expect(requests('hub').some((r) => r.url === '/datasets/acme/corpus/resolve/main/data/train.bin')).toBe(
      true,
    );
  });

  it('a connection reset mid-body at the CDN (fault proxy): resumes, verified, little re-sent', async () => {
    hub.redirectTo(proxy.url);
    proxy.rules.fault = (n) => (n === 2 || n === 5 ? { resetAfter: 50_000 } : undefined);
    const path = await loadModel('hf://acme/tiny/onnx/model.onnx', opts());
    expect((await readFile(path)).equals(model.data)).toBe(true);
    expect(proxy.stats.requests).toBeGreaterThan(PARTS);
    expect(proxy.stats.bytes).toBeLessThan(SIZE + PART);
    expect(await leftovers()).toEqual([]);
  });

  it('a CDN URL that stops answering (expired signature): asks the hub again, token still off the CDN', async () => {
    hub.fail({ on: 'cdn', count: 1, status: 403 });
    const path = await loadModel('hf://acme/gated/model.bin', opts({ hfToken: hub.token, concurrency: 1 }));
    expect((await readFile(path)).equals(gated.data)).toBe(true);
    expect(requests('cdn').map((r) => r.status)[0]).toBe(403);
    // HEAD, then the pinned resolve URL again after the 403 (a fresh redirect).
    expect(requests('hub').map((r) => r.method)).toEqual(['HEAD', 'GET']);
    for (const r of requests('cdn')) expect(r.headers.authorization).toBeUndefined();
  });

  it('rejects malformed hf:// URLs and globs in loadModel', async () => {
    await expectCode(loadModel('hf://acme/tiny', opts()), 'INVALID_ARGUMENT');
    await expectCode(loadModel('hf://acme/tiny@main/onnx/*.onnx', opts()), 'INVALID_ARGUMENT');
    await expectCode(loadModel('hf://acme/tiny/../x', opts()), 'INVALID_ARGUMENT');
  });
});

describe('hf:// across processes', () => {
  let script: string;
  let buildDir: string;
  beforeAll(async () => {
    ({ script, dir: buildDir } = await buildForChildren());
  });
  afterAll(async () => {
    await removeDir(buildDir);
  });

  function startChild(): { child: ChildProcess; result: Promise<{ ok: boolean; path?: string }> } {
    const args = {
      source: 'hf://acme/tiny/onnx/model.onnx',
      options: { cacheDir, hfEndpoint: hub.url, sha256: model.sha256, partSize: PART, concurrency: 2 },
    };
    const child = spawn(process.execPath, [script, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    const result = new Promise<{ ok: boolean; path?: string }>((resolve) => {
      child.on('exit', () => {
        try {
          resolve(JSON.parse(out.trim().split('\n').pop() as string));
        } catch {
          resolve({ ok: false });
        }
      });
    });
    return { child, result };
  }

  it('8 processes booting at once: the file crosses the wire once', async () => {
    hub.redirectTo(proxy.url);
    proxy.rules = { chunkDelayMs: 15 }; // a slow link, so the others really wait on the lock
    const results = await Promise.all(Array.from({ length: 8 }, () => startChild().result));
    for (const r of results) expect(r).toMatchObject({ ok: true });
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect((await readFile(results[0]?.path as string)).equals(model.data)).toBe(true);
    expect(proxy.stats.bytes).toBe(SIZE);
    expect(proxy.stats.requests).toBe(PARTS);
    expect(await leftovers()).toEqual([]);
  });
});
