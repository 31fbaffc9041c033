import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { StowageError } from '../../src/core/errors.js';
import { loadModel } from '../../src/loader/index.js';
import { expectCode } from '../helpers/streams.js';
import { startFaultProxy } from '../servers/fault-proxy.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { blob, captureLogs, removeDir, tempDir } from './fixtures.js';

const SIZE = 1024 * 1024 + 333;
const PART = 256 * 1024;
const model = blob(SIZE);
let s3: S3TestServer;
let storage: S3Storage;
let cacheDir: string;

beforeAll(async () => {
  s3 = await startS3Server();
  storage = new S3Storage({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await storage.put('models/x.bin', model.data);
});

afterAll(async () => {
  await s3.stop();
  if (cacheDir) await removeDir(cacheDir);
});

beforeEach(async () => {
  if (cacheDir) await removeDir(cacheDir);
  cacheDir = await tempDir('stowage-cache-');
});

const opts = { partSize: PART, concurrency: 3, progressInterval: 0 };

describe('loadModel from the S3 test server', () => {
  it('{ storage, key }: cold in ranged GETs, then warm with zero requests', async () => {
    await s3.clearRequests();
    const path = await loadModel(
      { storage, key: 'models/x.bin' },
      { ...opts, cacheDir, sha256: model.sha256 },
    );
    expect((await readFile(path)).equals(model.data)).toBe(true);
    const gets = (await s3.requests()).filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(Math.ceil(SIZE / PART));
    expect(gets.every((r) => r.headers.range?.startsWith('bytes='))).toBe(true);
    await s3.clearRequests();
    await loadModel({ storage, key: 'models/x.bin' }, { ...opts, cacheDir, sha256: model.sha256 });
    expect(await s3.requests()).toEqual([]);
  });

  it('an s3:// URL whose path is the key, credentials from the URL never logged', async () => {
    const url = s3.storageUrl.replace(`@${s3.bucket}?`, `@${s3.bucket}/models/x.bin?`);
    const logs = captureLogs();
    try {
      const path = await loadModel(url, { ...opts, cacheDir });
      expect((await readFile(path)).equals(model.data)).toBe(true);
    } finally {
      logs.restore();
    }
    const text = logs.lines.join('\n');
    expect(text).toContain(`s3://${s3.bucket}/models/x.bin`);
    expect(text).not.toContain(s3.secretAccessKey);
  });

  it('S3 connections dropped mid-body until retries run out: UNAVAILABLE, retryable, the cause kept', async () => {
    const proxy = await startFaultProxy(s3.endpoint, { fault: () => ({ resetAfter: 100_000 }) });
    try {
      const flaky = new S3Storage({
        bucket: s3.bucket,
        endpoint: proxy.url,
        region: s3.region,
        forcePathStyle: true,
        maxRetries: 0,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      });
      const err = await expectCode(
        loadModel(
          { storage: flaky, key: 'models/x.bin' },
          { ...opts, cacheDir, sha256: model.sha256, retries: 0 },
        ),
        'UNAVAILABLE',
      );
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('models/x.bin');
      expect(err.cause).toBeInstanceOf(Error);
      expect(err.cause).not.toBeInstanceOf(StowageError);
      expect(proxy.stats.bytes).toBeLessThan(SIZE);
    } finally {
      await proxy.stop();
    }
  });
});
