import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { setLogger } from '../../src/log.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { bytes, makeRepo, removeDir, run, sha256 } from './helpers.js';

const FILES = {
  'models/m.onnx': bytes(250_000, 's3 model'),
  'public/a.png': bytes(3000, 's3 a'),
  'public/b.jpg': bytes(4000, 's3 b'),
  'index.js': 'start();\n',
};

describe('stowage CLI against S3 (s3rver on loopback)', () => {
  let s3: S3TestServer;
  let repo: string;
  /** With credentials: what a user passes to --to. */
  let url: string;
  /** Without: what the manifest records. */
  let publicUrl: string;

  beforeAll(async () => {
    setLogger({ info: () => undefined, warn: () => undefined });
    s3 = await startS3Server();
    repo = await makeRepo(FILES);
    const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
    url = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/app/assets?${query}`;
    publicUrl = `s3://${s3.bucket}/app/assets?${query}`;
  });
  afterAll(async () => {
    await s3?.stop();
    await removeDir(repo);
  });

  const puts = async () => (await s3.requests()).filter((r) => r.method === 'PUT' || r.method === 'POST');

  it('migrates, records a manifest without credentials, and never prints them', async () => {
    await s3.clearRequests();
    const r = await run(repo, ['migrate-assets', '--to', url]);
    expect(r.err).not.toContain('error');
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Uploaded 3 file(s)');
    expect(r.out + r.err).not.toContain(`${s3.accessKeyId}:${s3.secretAccessKey}`);
    const manifest = JSON.parse(await readFile(join(repo, 'stowage.lock.json'), 'utf8'));
    expect(manifest.storage).toBe(publicUrl);
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual([
      'models/m.onnx',
      'public/a.png',
      'public/b.jpg',
    ]);
    const uploads = await puts();
    expect(uploads).toHaveLength(3);
    for (const request of uploads)
      expect(request.path.startsWith(`/${s3.bucket}/app/assets/sha256/`)).toBe(true);
  });

  it('a re-run sends no upload request; a changed file sends exactly one', async () => {
    await s3.clearRequests();
    const again = await run(repo, ['migrate-assets', '--to', url, '--json']);
    expect(again.code).toBe(EXIT.OK);
    expect(JSON.parse(again.out)).toMatchObject({ uploaded: 0, hashed: 0, alreadyStored: 3 });
    expect(await puts()).toEqual([]);

    const changed = bytes(3000, 's3 a v2');
    await writeFile(join(repo, 'public/a.png'), changed);
    await s3.clearRequests();
    const third = await run(repo, ['migrate-assets', '--to', url, '--json']);
    expect(JSON.parse(third.out)).toMatchObject({ uploaded: 1, hashed: 1, alreadyStored: 2 });
    const uploads = await puts();
    expect(uploads.map((r) => r.path)).toEqual([
      `/${s3.bucket}/app/assets/sha256/${sha256(changed).slice(0, 2)}/${sha256(changed)}.png`,
    ]);
  });

  it('verify and pull work against the bucket', async () => {
    expect((await run(repo, ['verify', '--from', url])).code).toBe(EXIT.OK);
    await rm(join(repo, 'models/m.onnx'));
    const pulled = await run(repo, ['pull', '--from', url, '--json']);
    expect(pulled.code).toBe(EXIT.OK);
    expect(JSON.parse(pulled.out).restored).toBe(1);
    expect(sha256(await readFile(join(repo, 'models/m.onnx')))).toBe(sha256(FILES['models/m.onnx']));
  });

  it('a missing bucket fails clearly with exit 3, credentials not printed', async () => {
    const missing = url.replace(`@${s3.bucket}/`, '@no-such-bucket/');
    const r = await run(repo, ['migrate-assets', '--to', missing]);
    expect(r.code).toBe(EXIT.STORAGE);
    expect(r.err).toContain('no-such-bucket');
    expect(r.err).toContain('does not exist');
    expect(r.out + r.err).not.toContain(`${s3.accessKeyId}:${s3.secretAccessKey}`);
  });
});
