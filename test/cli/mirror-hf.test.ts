import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { createStorage } from '../../src/config/create-storage.js';
import { setLogger } from '../../src/util/log.js';
import { type HfHubEmulator, startHfHub } from '../servers/hf-hub.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { bytes, removeDir, run, sha256, tempDir } from './helpers.js';

const MODEL = bytes(600_000, 'hf model');
const EXTERNAL = bytes(200_000, 'hf external data');
const CONFIG = Buffer.from('{"model_type":"bert"}\n');

function keyOf(data: Uint8Array, ext: string): string {
  const hash = sha256(data);
  return `sha256/${hash.slice(0, 2)}/${hash}${ext}`;
}

describe('stowage mirror hf://', () => {
  let hub: HfHubEmulator;
  let s3: S3TestServer;
  let commit: string;
  let s3Url: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    setLogger({ info: () => undefined, warn: () => undefined });
    hub = await startHfHub();
    s3 = await startS3Server();
    commit = hub.addRepo('acme/tiny', [
      { path: 'config.json', data: CONFIG },
      { path: 'onnx/model.onnx', data: MODEL },
      { path: 'onnx/model.onnx_data', data: EXTERNAL },
    ]);
    const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
    s3Url = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/models?${query}`;
    env = { HF_ENDPOINT: hub.url };
  });
  afterAll(async () => {
    await hub?.stop();
    await s3?.stop();
  });

  let app: string;
  beforeEach(async () => {
    app = await tempDir('mirror-hf-app');
    hub.resetLog();
    return () => removeDir(app);
  });

  const lock = async () => JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8'));
  const puts = async () => (await s3.requests()).filter((r) => r.method === 'PUT' || r.method === 'POST');

  it('a glob and a file, pinned to the commit, copied into S3 with their origin; a re-run copies nothing', async () => {
    await s3.clearRequests();
    const args = [
      'mirror',
      'hf://acme/tiny@main/onnx/*',
      'hf://acme/tiny/config.json',
      '--to',
      s3Url,
      '--prefix',
      'models/acme/tiny',
    ];
    const r = await run(app, args, env);
    expect(r.err).not.toContain('error');
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Copied 3 file(s)');
    expect((await lock()).files).toEqual([
      {
        path: 'models/acme/tiny/config.json',
        key: keyOf(CONFIG, '.json'),
        size: CONFIG.length,
        sha256: sha256(CONFIG),
        origin: `hf://acme/tiny@${commit}/config.json`,
      },
      {
        path: 'models/acme/tiny/onnx/model.onnx',
        key: keyOf(MODEL, '.onnx'),
        size: MODEL.length,
        sha256: sha256(MODEL),
        origin: `hf://acme/tiny@${commit}/onnx/model.onnx`,
      },
      {
        path: 'models/acme/tiny/onnx/model.onnx_data',
        key: keyOf(EXTERNAL, ''),
        size: EXTERNAL.length,
        sha256: sha256(EXTERNAL),
        origin: `hf://acme/tiny@${commit}/onnx/model.onnx_data`,
      },
    ]);
    expect(await puts()).toHaveLength(3);

    await s3.clearRequests();
    const again = await run(app, [...args, '--json'], env);
    expect(again.code).toBe(EXIT.OK);
    expect(JSON.parse(again.out).present).toBe(3);
    expect(await puts()).toHaveLength(0);

    // Boots read the bucket: with the hub gone from the environment, pull restores side by side.
    hub.resetLog();
    const pulled = await run(app, ['pull', '--from', s3Url], {});
    expect(pulled.code).toBe(EXIT.OK);
    expect(hub.log).toHaveLength(0);
    expect(sha256(await readFile(join(app, 'models/acme/tiny/onnx/model.onnx_data')))).toBe(sha256(EXTERNAL));
  });

  it('bytes from the CDN that do not match the hub sha256: error, nothing published, lock unchanged', async () => {
    const other = hub.addRepo('acme/broken', [{ path: 'weights.bin', data: bytes(300_000, 'broken') }]);
    hub.corrupt(sha256(bytes(300_000, 'broken')), bytes(300_000, 'not the weights'));
    const storage = await createStorage(s3.storageUrl);
    const before: string[] = [];
    for await (const info of storage.list('')) before.push(info.key);
    const r = await run(app, ['mirror', `hf://acme/broken@${other}/weights.bin`, '--to', s3Url], env);
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.err).toContain('CHECKSUM_MISMATCH');
    const after: string[] = [];
    for await (const info of storage.list('')) after.push(info.key);
    expect(after).toEqual(before);
    expect(await s3.pendingUploads()).toEqual([]);
    await expect(readFile(join(app, 'stowage.lock.json'))).rejects.toThrow();
  });

  it('without --to: entries keep the pinned hf:// source; pull fetches from the hub, verify asks it (no download)', async () => {
    const r = await run(app, ['mirror', 'hf://acme/tiny/onnx/model.onnx', '--prefix', 'models'], env);
    expect(r.code).toBe(EXIT.OK);
    expect(await lock()).toEqual({
      version: 1,
      files: [
        {
          path: 'models/onnx/model.onnx',
          source: `hf://acme/tiny@${commit}/onnx/model.onnx`,
          size: MODEL.length,
          sha256: sha256(MODEL),
        },
      ],
    });
    const pulled = await run(app, ['pull', '--json'], env);
    expect(pulled.code).toBe(EXIT.OK);
    expect(JSON.parse(pulled.out).files[0]).toMatchObject({ from: 'source', source: 'download' });
    expect(sha256(await readFile(join(app, 'models/onnx/model.onnx')))).toBe(sha256(MODEL));

    await rm(join(app, 'models'), { recursive: true });
    hub.resetLog();
    const verified = await run(app, ['verify', '--json'], env);
    expect(verified.code).toBe(EXIT.OK);
    expect(JSON.parse(verified.out).files[0]).toMatchObject({ remote: 'ok', remoteMethod: 'probe' });
    // A probe: no body bytes beyond the one a ranged probe asks for.
    expect(hub.log.filter((q) => q.server === 'cdn' && q.method === 'GET').length).toBeLessThanOrEqual(1);
  });
});
