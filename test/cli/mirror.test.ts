import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { mirror } from '../../src/cli/mirror/mirror.js';
import { createStorage } from '../../src/config/create-storage.js';
import { isStowageError } from '../../src/core/errors.js';
import { setLogger } from '../../src/util/log.js';
import { startFaultProxy } from '../servers/fault-proxy.js';
import { type RangeServer, startHttpRangeServer } from '../servers/http-range-server.js';
import { startMotoServer } from '../servers/moto-server.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { bytes, removeDir, run, sha256, tempDir } from './helpers.js';

const MODEL = bytes(300_000, 'mirror model');
const CONFIG = bytes(2_000, 'mirror config');
const BIG = bytes(3 * 1024 * 1024, 'mirror big');

function keyOf(data: Uint8Array, ext: string): string {
  const hash = sha256(data);
  return `sha256/${hash.slice(0, 2)}/${hash}${ext}`;
}

/** Every file under `dir`, recursively, as relative paths (temp and sidecar files included). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

interface LockEntry {
  path: string;
  key?: string;
  source?: string;
  origin?: string;
  size: number;
  sha256: string;
}

async function readLock(app: string): Promise<{ storage?: string; files: LockEntry[] }> {
  return JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8'));
}

describe('stowage mirror into moto (SigV4 checked)', () => {
  let moto: S3TestServer;
  let http: RangeServer;
  let dir: string;
  let app: string;
  beforeAll(async () => {
    setLogger({ info: () => undefined, warn: () => undefined });
    dir = await tempDir('mirror-moto-src');
    app = await tempDir('mirror-moto-app');
    await writeFile(join(dir, 'model.onnx'), MODEL);
    http = await startHttpRangeServer(dir);
    moto = await startMotoServer();
  });
  afterAll(async () => {
    await http?.stop();
    await moto?.stop();
    await removeDir(dir);
    await removeDir(app);
  });

  it('copies with signed requests, and a second run sends no PUT', async () => {
    const writes = async () =>
      (await moto.requests()).filter((q) => q.method === 'PUT' || q.method === 'POST').length;
    await moto.clearRequests();
    const r = await run(app, ['mirror', `${http.url}/model.onnx`, '--to', moto.storageUrl]);
    expect(r.err).not.toContain('error');
    expect(r.code).toBe(EXIT.OK);
    expect(await writes()).toBe(1);
    const storage = await createStorage(moto.storageUrl);
    expect(await storage.head(keyOf(MODEL, '.onnx'))).toMatchObject({
      size: MODEL.length,
      sha256: sha256(MODEL),
    });
    await moto.clearRequests();
    const again = await run(app, ['mirror', `${http.url}/model.onnx`, '--to', moto.storageUrl, '--json']);
    expect(again.code).toBe(EXIT.OK);
    expect(JSON.parse(again.out).present).toBe(1);
    expect(await writes()).toBe(0);
    const lock = await readLock(app);
    expect(lock.storage).not.toContain(moto.secretAccessKey);
    expect(lock.files[0]).toMatchObject({ key: keyOf(MODEL, '.onnx'), origin: `${http.url}/model.onnx` });
  });
});

describe('stowage mirror', () => {
  let s3: S3TestServer;
  let http: RangeServer;
  let sources: string;
  let s3Url: string;
  let s3Public: string;

  beforeAll(async () => {
    setLogger({ info: () => undefined, warn: () => undefined });
    sources = await tempDir('mirror-src');
    await writeFile(join(sources, 'model.onnx'), MODEL);
    await writeFile(join(sources, 'config.json'), CONFIG);
    await writeFile(join(sources, 'big.bin'), BIG);
    http = await startHttpRangeServer(sources);
    s3 = await startS3Server();
    const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
    s3Url = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/mirrored?${query}`;
    s3Public = `s3://${s3.bucket}/mirrored?${query}`;
  });
  afterAll(async () => {
    await http?.stop();
    await s3?.stop();
    await removeDir(sources);
  });

  let app: string;
  beforeEach(async () => {
    app = await tempDir('mirror-app');
    return () => removeDir(app);
  });

  const puts = async () => (await s3.requests()).filter((r) => r.method === 'PUT' || r.method === 'POST');
  const s3Keys = async () => {
    const storage = await createStorage(s3.storageUrl);
    const keys: string[] = [];
    for await (const info of storage.list('')) keys.push(info.key);
    return keys.sort();
  };

  it('copies file: and http sources into S3, records key and origin, and a re-run copies nothing', async () => {
    await s3.clearRequests();
    const fileSource = `file:${join(sources, 'config.json')}`;
    const httpSource = `${http.url}/model.onnx`;
    const first = await run(app, [
      'mirror',
      fileSource,
      httpSource,
      '--to',
      s3Url,
      '--prefix',
      'models/tiny',
    ]);
    expect(first.err).not.toContain('error');
    expect(first.code).toBe(EXIT.OK);
    expect(first.out).toContain('Copied 2 file(s)');
    expect(first.out).toContain(`Next: commit stowage.lock.json; boots now read ${s3Public}.`);
    expect(first.out + first.err).not.toContain(`${s3.accessKeyId}:${s3.secretAccessKey}@`);
    const lock = await readLock(app);
    expect(lock.storage).toBe(s3Public);
    expect(lock.files).toEqual([
      {
        path: 'models/tiny/config.json',
        key: keyOf(CONFIG, '.json'),
        size: CONFIG.length,
        sha256: sha256(CONFIG),
        origin: fileSource,
      },
      {
        path: 'models/tiny/model.onnx',
        key: keyOf(MODEL, '.onnx'),
        size: MODEL.length,
        sha256: sha256(MODEL),
        origin: httpSource,
      },
    ]);
    expect(await puts()).toHaveLength(2);
    const stored = await createStorage(s3.storageUrl);
    const { body } = await stored.get(`mirrored/${keyOf(MODEL, '.onnx')}`);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(MODEL));

    await s3.clearRequests();
    const lockText = await readFile(join(app, 'stowage.lock.json'), 'utf8');
    const again = await run(app, [
      'mirror',
      fileSource,
      httpSource,
      '--to',
      s3Url,
      '--prefix',
      'models/tiny',
      '--json',
    ]);
    expect(again.code).toBe(EXIT.OK);
    const result = JSON.parse(again.out);
    expect(result.files.map((f: { action: string }) => f.action)).toEqual(['present', 'present']);
    expect(result.copied).toBe(0);
    expect(await puts()).toHaveLength(0);
    expect(await readFile(join(app, 'stowage.lock.json'), 'utf8')).toBe(lockText);
  });

  it('into file: storage; pull restores from the target with the source gone, verify shows the origin', async () => {
    const store = await tempDir('mirror-store');
    try {
      const source = await tempDir('mirror-once');
      await writeFile(join(source, 'model.onnx'), MODEL);
      const r = await run(app, ['mirror', `file:${join(source, 'model.onnx')}`, '--to', `file:${store}`]);
      expect(r.code).toBe(EXIT.OK);
      await removeDir(source);
      const lock = await readLock(app);
      expect(lock.storage).toBe(`file:${store}`);
      expect(lock.files[0]).toMatchObject({ path: 'model.onnx', key: keyOf(MODEL, '.onnx') });
      expect(lock.files[0]?.origin).toBe(`file:${join(source, 'model.onnx')}`);

      const pulled = await run(app, ['pull', '--json']);
      expect(pulled.code).toBe(EXIT.OK);
      expect(JSON.parse(pulled.out).files).toEqual([
        {
          path: 'model.onnx',
          size: MODEL.length,
          source: 'download',
          from: 'storage',
          origin: `file:${join(source, 'model.onnx')}`,
        },
      ]);
      expect(sha256(await readFile(join(app, 'model.onnx')))).toBe(sha256(MODEL));

      const verified = await run(app, ['verify', '--json']);
      expect(verified.code).toBe(EXIT.OK);
      const files = JSON.parse(verified.out).files;
      expect(files).toEqual([
        expect.objectContaining({
          path: 'model.onnx',
          key: keyOf(MODEL, '.onnx'),
          origin: `file:${join(source, 'model.onnx')}`,
          remote: 'ok',
          remoteMethod: 'head',
          local: 'ok',
        }),
      ]);
      const text = await run(app, ['verify']);
      expect(text.out).toContain('1 mirrored file(s) checked in storage');
      expect(text.out).toContain('All 1 file(s) verified.');
    } finally {
      await removeDir(store);
    }
  });

  it('a source whose bytes differ from its stated sha256: error, nothing in the target, lock unchanged', async () => {
    // A stowage store states each object's sha256 (its sidecar); the bytes are changed behind it.
    const sourceDir = await tempDir('mirror-lying');
    const store = await tempDir('mirror-target');
    try {
      const source = await createStorage(`file:${sourceDir}`);
      await source.put('weights.bin', MODEL);
      await writeFile(join(sourceDir, 'weights.bin'), bytes(MODEL.length, 'bit rot')); // same inode, same size
      const before = '{"version":1,"storage":"file:/elsewhere","files":[]}\n';
      await writeFile(join(app, 'stowage.lock.json'), before.replace('file:/elsewhere', `file:${store}`));
      const lockBefore = await readFile(join(app, 'stowage.lock.json'), 'utf8');
      const r = await run(app, ['mirror', `file:${join(sourceDir, 'weights.bin')}`, '--to', `file:${store}`]);
      expect(r.code).toBe(EXIT.FAILURE);
      expect(r.err).toContain('CHECKSUM_MISMATCH');
      expect(await filesUnder(store)).toEqual([]);
      expect(await readFile(join(app, 'stowage.lock.json'), 'utf8')).toBe(lockBefore);

      await s3.clearRequests();
      const keysBefore = await s3Keys();
      const onS3 = await run(app, [
        'mirror',
        `file:${join(sourceDir, 'weights.bin')}`,
        '--to',
        s3Url,
        '--manifest',
        'other.lock.json',
      ]);
      expect(onS3.code).toBe(EXIT.FAILURE);
      expect(onS3.err).toContain('CHECKSUM_MISMATCH');
      expect(await s3Keys()).toEqual(keysBefore);
      expect(await s3.pendingUploads()).toEqual([]);
      expect(await readdir(app)).toEqual(['stowage.lock.json']);
    } finally {
      await removeDir(sourceDir);
      await removeDir(store);
    }
  });

  it('an abort mid-copy leaves no object, no temp file and no lock', async () => {
    const store = await tempDir('mirror-abort');
    try {
      for (const to of [`file:${store}`, s3Url]) {
        const keysBefore = await s3Keys();
        const controller = new AbortController();
        let seen = 0;
        const copying = mirror([`${http.url}/big.bin`], {
          cwd: app,
          to,
          signal: controller.signal,
          loader: { partSize: 256 * 1024, retries: 0 },
          progress: {
            begin: () => undefined,
            fileDone: () => undefined,
            end: () => undefined,
            fileBytes: (_path, bytesSoFar) => {
              seen = bytesSoFar;
              if (bytesSoFar > 0) controller.abort();
            },
          },
        });
        const err = await copying.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isStowageError(err, 'ABORTED')).toBe(true);
        expect(seen).toBeLessThan(BIG.length);
        expect(await filesUnder(store)).toEqual([]);
        expect(await s3Keys()).toEqual(keysBefore);
        expect(await s3.pendingUploads()).toEqual([]);
        expect(await readdir(app)).toEqual([]);
      }
    } finally {
      await removeDir(store);
    }
  });

  it('without --to: entries pin their source; pull fetches from it, verify probes it (--deep hashes it)', async () => {
    const httpSource = `${http.url}/config.json`;
    const r = await run(app, ['mirror', httpSource, '--prefix', 'models']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Pinned 1 file(s)');
    const lock = await readLock(app);
    expect(lock.storage).toBeUndefined();
    expect(lock.files).toEqual([
      { path: 'models/config.json', source: httpSource, size: CONFIG.length, sha256: sha256(CONFIG) },
    ]);

    http.resetStats();
    const pulled = await run(app, ['pull', '--json']);
    expect(pulled.err).not.toContain('error');
    expect(pulled.code).toBe(EXIT.OK);
    expect(JSON.parse(pulled.out).files).toEqual([
      {
        path: 'models/config.json',
        size: CONFIG.length,
        source: 'download',
        from: 'source',
        origin: httpSource,
      },
    ]);
    expect(http.stats.requests).toBeGreaterThan(0);
    expect(sha256(await readFile(join(app, 'models/config.json')))).toBe(sha256(CONFIG));

    const shallow = await run(app, ['verify', '--json']);
    expect(shallow.code).toBe(EXIT.OK);
    expect(JSON.parse(shallow.out).files[0]).toMatchObject({ source: httpSource, remoteMethod: 'size' });
    const deep = await run(app, ['verify', '--deep', '--json']);
    expect(deep.code).toBe(EXIT.OK);
    expect(JSON.parse(deep.out).files[0]).toMatchObject({ remote: 'ok', remoteMethod: 'read-back' });

    // The source changes (same size): only --deep can tell without a stated sha256.
    const original = await readFile(join(sources, 'config.json'));
    try {
      await writeFile(join(sources, 'config.json'), bytes(CONFIG.length, 'changed upstream'));
      await rm(join(app, 'models/config.json'));
      const text = await run(app, ['verify']);
      expect(text.code).toBe(EXIT.OK);
      expect(text.out).toContain('checked by size only (--deep downloads and hashes them)');
      const caught = await run(app, ['verify', '--deep']);
      expect(caught.code).toBe(EXIT.FAILURE);
      expect(caught.out).toContain(`MISMATCH models/config.json (source ${httpSource})`);
    } finally {
      await writeFile(join(sources, 'config.json'), original);
    }
  });

  it('a connection dropped mid-body resumes at the next byte, never from byte 0', async () => {
    const proxy = await startFaultProxy(http.url, { fault: () => ({ resetAfter: 1024 * 1024 }) });
    const store = await tempDir('mirror-resume');
    try {
      const source = `${proxy.url}/big.bin`;
      const r = await run(app, ['mirror', source, '--to', `file:${store}`]);
      expect(r.err).not.toContain('error');
      expect(r.code).toBe(EXIT.OK);
      const lock = await readLock(app);
      expect(lock.files[0]).toMatchObject({ key: keyOf(BIG, '.bin'), sha256: sha256(BIG) });
      expect(sha256(await readFile(join(store, keyOf(BIG, '.bin'))))).toBe(sha256(BIG));
      // Every response is cut after 1 MiB: a reader that restarted at byte 0 would never finish.
      // Read twice (hashed first: an http source states no sha256); the proxy also counts
      // bytes in flight when it cut a connection, which the client never got.
      expect(proxy.stats.requests).toBeGreaterThanOrEqual(2 * Math.ceil(BIG.length / (1024 * 1024)));
      expect(proxy.stats.bytes).toBeLessThan(3 * BIG.length);
    } finally {
      await proxy.stop();
      await removeDir(store);
    }
  });

  it('a signed URL: its signature stays out of the lock; without --to it is refused', async () => {
    const store = await tempDir('mirror-signed');
    try {
      const signed = `${http.url}/model.onnx?v=3&X-Amz-Signature=deadbeef99&X-Amz-Expires=600`;
      const r = await run(app, ['mirror', signed, '--to', `file:${store}`]);
      expect(r.code).toBe(EXIT.OK);
      const lockText = await readFile(join(app, 'stowage.lock.json'), 'utf8');
      expect(lockText).not.toContain('deadbeef99');
      expect((await readLock(app)).files[0]?.origin).toBe(`${http.url}/model.onnx?v=3`);
      const pinned = await run(app, ['mirror', signed, '--manifest', 'pinned.lock.json']);
      expect(pinned.code).toBe(EXIT.USAGE);
      expect(pinned.err).toContain('is a signed or credentialed URL');
      expect(pinned.err).not.toContain('deadbeef99');
    } finally {
      await removeDir(store);
    }
  });

  it('--dry-run pins and checks the target, copies and writes nothing', async () => {
    await s3.clearRequests();
    const r = await run(app, ['mirror', `${http.url}/big.bin`, '--to', s3Url, '--dry-run', '--json']);
    expect(r.code).toBe(EXIT.OK);
    const result = JSON.parse(r.out);
    expect(result.dryRun).toBe(true);
    expect(result.files).toEqual([
      expect.objectContaining({
        path: 'big.bin',
        action: 'planned',
        size: BIG.length,
        origin: `${http.url}/big.bin`,
      }),
    ]);
    expect(await puts()).toHaveLength(0);
    expect(await readdir(app)).toEqual([]);
    const text = await run(app, ['mirror', `${http.url}/big.bin`, '--to', s3Url, '--dry-run']);
    expect(text.out).toContain('Dry run: nothing is copied or written.');
  });

  it('a missing bucket or refused credentials: exit 3 before any copy, no secret printed', async () => {
    const source = `${http.url}/model.onnx`;
    const missing = await run(app, [
      'mirror',
      source,
      '--to',
      s3Url.replace(`@${s3.bucket}/`, '@no-such-bucket/'),
    ]);
    expect(missing.code).toBe(EXIT.STORAGE);
    expect(missing.err).toContain('the bucket does not exist');
    const refused = s3Url.replace(`${s3.accessKeyId}:${s3.secretAccessKey}@`, 'AKIDUNKNOWN:wrongsecret99@');
    const denied = await run(app, ['mirror', source, '--to', refused, '--json']);
    expect(denied.code).toBe(EXIT.STORAGE);
    expect(JSON.parse(denied.out).error.code).toBe('ACCESS_DENIED');
    expect(denied.out + denied.err).not.toContain('wrongsecret99');
    expect(await readdir(app)).toEqual([]);
  });

  it('bad arguments exit 2 with a clear message and write nothing', async () => {
    const source = `${http.url}/model.onnx`;
    const none = await run(app, ['mirror']);
    expect(none.code).toBe(EXIT.USAGE);
    expect(none.err).toContain("missing required argument 'source'");

    const outside = await run(app, ['mirror', source, '--to', `file:${app}/store`, '--prefix', '../up']);
    expect(outside.code).toBe(EXIT.USAGE);
    expect(outside.err).toContain('--prefix "../up" is not a relative folder');

    const scheme = await run(app, ['mirror', 'ftp://host/model.onnx']);
    expect(scheme.code).toBe(EXIT.USAGE);
    expect(scheme.err).toContain('unsupported source');

    const same = await run(app, ['mirror', source, `${http.url}/model.onnx?v=2`]);
    expect(same.code).toBe(EXIT.USAGE);
    expect(same.err).toContain('two sources give the same path model.onnx');

    const badTo = await run(app, ['mirror', source, '--to', 'ftp://bucket']);
    expect(badTo.code).toBe(EXIT.USAGE);
    expect(await readdir(app)).toEqual([]);

    await writeFile(
      join(app, 'stowage.lock.json'),
      '{"version":1,"storage":"file:/somewhere/else","files":[]}\n',
    );
    const other = await run(app, ['mirror', source, '--to', s3Url]);
    expect(other.code).toBe(EXIT.USAGE);
    expect(other.err).toContain(`stowage.lock.json reads from file:/somewhere/else, not ${s3Public}`);
  });
});
