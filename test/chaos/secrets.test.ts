import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import { S3Storage } from '../../adapters/s3/index.js';
import { runCli } from '../../src/cli/program.js';
import { createStorage } from '../../src/config/create-storage.js';
import type { Storage } from '../../src/core/types.js';
import { loadModel } from '../../src/loader/index.js';
import { bytes, captureIO, makeRepo, removeDir } from '../cli/helpers.js';
import { configOf } from '../cloudinary/harness.js';
import { serveApp } from '../express/serve/harness.js';
import { EXPRESS_VERSIONS, uploadApp } from '../express/upload/harness.js';
import { collect, failingStream } from '../helpers/streams.js';
import {
  type CloudinaryEmulatorHandle,
  startCloudinaryEmulator,
} from '../servers/cloudinary-emulator/index.js';
import { type FaultProxy, startFaultProxy } from '../servers/fault-proxy.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { Transcript } from './capture.js';
import { report } from './scale.js';

const unique = (label: string) => `${label}${randomBytes(12).toString('hex')}`;
// s3rver accepts any well-formed signature for its key id, so a made-up secret works against it.
const S3_SECRET = unique('s3SecretChaos');
const S3_BAD_SECRET = unique('s3BadSecretChaos');
const S3_BAD_KEY_ID = 'AKIACHAOSBADKEY00001';
const CLD_SECRET = unique('cldSecretChaos');
const CLD_BAD_SECRET = unique('cldBadSecretChaos');

let s3: S3TestServer;
let emu: CloudinaryEmulatorHandle;
let proxy: FaultProxy;
let scratch: string;
let repo: string;

beforeAll(async () => {
  s3 = await startS3Server({ bucket: 'chaos-secrets' });
  emu = await startCloudinaryEmulator({ apiSecret: CLD_SECRET });
  proxy = await startFaultProxy(s3.endpoint);
  scratch = await mkdtemp(join(tmpdir(), 'stowage-chaos-secrets-'));
  repo = await makeRepo({ 'models/m.onnx': bytes(40_000, 'secret model'), 'index.js': 'start();\n' });
});

afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
  await emu?.stop();
  await rm(scratch, { recursive: true, force: true });
  if (repo) await removeDir(repo);
});

function s3With(
  accessKeyId: string,
  secretAccessKey: string,
  bucket = s3.bucket,
  endpoint = s3.endpoint,
): S3Storage {
  return new S3Storage({
    bucket,
    region: s3.region,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  } as ConstructorParameters<typeof S3Storage>[0]);
}

/** Every Storage call that can fail, on one storage. */
async function storageErrorPaths(t: Transcript, name: string, storage: Storage): Promise<void> {
  await t.run(`${name} put`, () => storage.put('secret/a.txt', 'hello'));
  await t.run(`${name} get missing`, async () => collect((await storage.get('missing/none.txt')).body));
  await t.run(`${name} head missing`, () => storage.head('missing/none.txt'));
  await t.run(`${name} exists`, () => storage.exists('missing/none.txt'));
  await t.run(`${name} delete`, () => storage.delete('secret/a.txt'));
  await t.run(`${name} list`, async () => {
    const out: string[] = [];
    for await (const info of storage.list('secret/')) out.push(info.key);
    return out;
  });
  await t.run(`${name} copy missing`, () => storage.copy('missing/none.txt', 'secret/b.txt'));
  await t.run(`${name} checksum mismatch`, () =>
    storage.put('secret/c.txt', 'body', { sha256: 'ab'.repeat(32) }),
  );
  await t.run(`${name} too large`, () => storage.put('secret/d.txt', 'x'.repeat(100), { maxSize: 10 }));
  await t.run(`${name} failing body`, () => storage.put('secret/e.bin', failingStream(70_000)));
  await t.run(`${name} aborted`, () =>
    storage.put('secret/f.bin', failingStream(10_000_000), { signal: AbortSignal.timeout(5) }),
  );
  await t.run(`${name} bad key`, () => storage.put('../escape', 'x'));
  await t.run(`${name} signed url`, () => storage.url('secret/a.txt', { expiresIn: 60 }));
}

describe('chaos: secrets never appear in errors, logs, CLI output or HTTP bodies', () => {
  it('every reachable error path, with known credentials, leaks none of them', async () => {
    const t = new Transcript();
    const secrets: Record<string, string> = {
      S3_SECRET,
      S3_BAD_SECRET,
      CLD_SECRET,
      CLD_BAD_SECRET,
      CLD_BASIC_AUTH: Buffer.from(`${emu.apiKey}:${CLD_SECRET}`).toString('base64'),
      CLD_BAD_BASIC_AUTH: Buffer.from(`${emu.apiKey}:${CLD_BAD_SECRET}`).toString('base64'),
    };
    const restore = t.captureOutput();
    try {
      // S3: good credentials (missing objects, checksums, aborts), wrong key id, wrong bucket, dead endpoint.
      await storageErrorPaths(t, 's3 good', s3With(s3.accessKeyId, S3_SECRET));
      await storageErrorPaths(t, 's3 bad credentials', s3With(S3_BAD_KEY_ID, S3_BAD_SECRET));
      await storageErrorPaths(
        t,
        's3 wrong bucket',
        s3With(s3.accessKeyId, S3_SECRET, 'no-such-bucket-chaos'),
      );
      await storageErrorPaths(
        t,
        's3 dead endpoint',
        s3With(s3.accessKeyId, S3_SECRET, s3.bucket, 'http://127.0.0.1:9'),
      );
      const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
      const badUrl = `s3://${S3_BAD_KEY_ID}:${S3_BAD_SECRET}@${s3.bucket}/p?${query}`;
      const goodUrl = `s3://${s3.accessKeyId}:${S3_SECRET}@no-such-bucket-chaos/p?${query}`;
      for (const url of [
        badUrl,
        goodUrl,
        `${badUrl}&region=`,
        's3://:@/',
        `cloudinary://${emu.apiKey}:${CLD_BAD_SECRET}@`,
      ]) {
        const made = await t.run('createStorage', () => createStorage(url, {}));
        if (made && typeof (made as Storage).put === 'function')
          await storageErrorPaths(t, 'createStorage url', made as Storage);
      }

      // Cloudinary: right secret (missing objects), wrong secret (every signed call refused).
      const good = new CloudinaryStorage({ ...configOf(emu), maxRetries: 0 });
      const bad = new CloudinaryStorage({ ...configOf(emu), apiSecret: CLD_BAD_SECRET, maxRetries: 0 });
      await storageErrorPaths(t, 'cloudinary good', good);
      await storageErrorPaths(t, 'cloudinary bad secret', bad);
      emu.failNext(3, 500);
      await storageErrorPaths(t, 'cloudinary 500', good);

      // Loader: presigned URLs (the signature is a bearer credential) failing in every way.
      const signer = s3With(s3.accessKeyId, S3_SECRET);
      await signer.put('models/real.bin', randomBytes(50_000));
      const cacheDir = join(scratch, 'cache');
      for (const key of ['models/missing.bin', 'models/real.bin']) {
        const signed = await signer.url(key, { expiresIn: 300 });
        const sig = new URL(signed).searchParams.get('X-Amz-Signature');
        if (sig) secrets[`SIGNATURE ${key}`] = sig;
        const viaProxy = signed.replace(s3.endpoint, proxy.url);
        await t.run(`loader ${key}`, () => loadModel(signed, { cacheDir, retries: 0, progressInterval: 1 }));
        await t.run(`loader ${key} wrong sha`, () =>
          loadModel(signed, { cacheDir, retries: 0, sha256: 'cd'.repeat(32), progressInterval: 1 }),
        );
        proxy.rules = { failNext: { status: 503, count: 10 } };
        await t.run(`loader ${key} 503`, () =>
          loadModel(viaProxy, { cacheDir, retries: 1, progressInterval: 1 }),
        );
        proxy.rules = { fault: () => ({ resetAfter: 100 }) };
        await t.run(`loader ${key} resets`, () =>
          loadModel(viaProxy, { cacheDir, retries: 1, progressInterval: 1 }),
        );
        proxy.rules = { flipByteAt: 10 };
        await t.run(`loader ${key} flipped`, () =>
          loadModel(viaProxy, {
            cacheDir,
            retries: 0,
            progressInterval: 1,
            onProgress: (s) => t.add('progress', JSON.stringify(s)),
          }),
        );
        proxy.rules = {};
      }
      await t.run('loader s3 url with credentials', () =>
        loadModel(`${badUrl.replace('/p?', '/models/real.bin?')}`, {
          cacheDir,
          retries: 0,
          progressInterval: 1,
        }),
      );
      await t.run('loader header secret', () =>
        loadModel(`${proxy.url}/nothing`, {
          cacheDir,
          retries: 0,
          headers: { Authorization: `Bearer ${S3_SECRET}` },
          progressInterval: 1,
        }),
      );

      // CLI: credentials in --to / --from URLs, failing.
      for (const argv of [
        ['migrate-assets', '--to', badUrl, '--min-size', '1kB'],
        ['migrate-assets', '--to', goodUrl, '--min-size', '1kB', '--json'],
        [
          'migrate-assets',
          '--to',
          `cloudinary://${emu.apiKey}:${CLD_BAD_SECRET}@nocloud`,
          '--min-size',
          '1kB',
        ],
        ['pull', '--from', badUrl],
        ['verify', '--from', goodUrl, '--json'],
      ]) {
        const io = captureIO(repo, {});
        const code = await runCli(argv, { io: io.io }).catch((e: unknown) => e);
        t.add(`cli ${argv[0]}`, `${String(code)}\n${io.out()}\n${io.err()}`);
      }

      // HTTP: serve() and upload() over storages with bad credentials.
      for (const [name, storage] of [
        ['s3 bad', s3With(S3_BAD_KEY_ID, S3_BAD_SECRET)],
        ['cloudinary bad', bad],
      ] as const) {
        const served = await serveApp(EXPRESS_VERSIONS[0][1], storage, { memory: false, disk: false });
        try {
          for (const path of ['/files/a.txt', '/files/missing.bin', '/files/%2e%2e/x']) {
            const res = await supertest(served.app).get(path);
            t.add(`serve ${name} ${path}`, `${res.status} ${res.text} ${JSON.stringify(res.headers)}`);
          }
        } finally {
          await served.close();
        }
        const { app } = uploadApp(EXPRESS_VERSIONS[0][1], storage);
        const res = await supertest(app).post('/upload').attach('f', Buffer.from('data'), 'a.txt');
        t.add(`upload ${name}`, `${res.status} ${res.text}`);
        const redirect = await serveApp(EXPRESS_VERSIONS[0][1], storage, { redirect: true });
        const r2 = await supertest(redirect.app).get('/files/a.txt');
        t.add(`serve redirect ${name}`, `${r2.status} ${r2.text}`);
        await redirect.close();
      }
    } finally {
      restore();
    }
    const found = t.scan(secrets);
    report({
      area: 'secrets in all output',
      trials: t.paths,
      failures: found.length,
      leftovers: 0,
      note: `${t.texts.length} texts scanned (${Math.round(t.texts.join('').length / 1024)} KiB) for ${Object.keys(secrets).length} secrets`,
    });
    expect(found).toEqual([]);
    // The paths really failed: the transcript holds errors from each area.
    const all = t.texts.join('\n');
    expect(all).toMatch(/ACCESS_DENIED|InvalidAccessKeyId|403/);
    expect(all).toContain('CHECKSUM_MISMATCH');
    expect(all).toContain('NOT_FOUND');
    await writeFile(join(scratch, 'transcript.txt'), all);
  }, 180_000);
});
