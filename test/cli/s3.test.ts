import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { setLogger } from '../../src/util/log.js';
import { type RecordedRequest, type S3TestServer, startS3Server } from '../servers/s3-server.js';
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

  /** Requests about `key` sent after its upload (PUT), in order: "HEAD", "GET". */
  const afterUpload = (requests: RecordedRequest[], key: string): string[] => {
    const path = `/${s3.bucket}/${key}`;
    const put = requests.findIndex((r) => r.method === 'PUT' && r.path === path);
    expect(put, `no PUT of ${key}`).toBeGreaterThanOrEqual(0);
    return requests
      .slice(put + 1)
      .filter((r) => r.path === path)
      .map((r) => r.method);
  };

  it('verification modes: put (default) sends nothing after the PUT, head one HEAD, read-back a HEAD and a GET', async () => {
    const expected: Record<string, string[]> = {
      default: [],
      put: [],
      head: ['HEAD'],
      'read-back': ['HEAD', 'GET'],
    };
    for (const [mode, after] of Object.entries(expected)) {
      // A fresh prefix per mode: every file is uploaded again.
      const modeUrl = url.replace('/app/assets?', `/modes/${mode}?`);
      const args = ['migrate-assets', '--to', modeUrl, '--manifest', `lock-${mode}.json`, '--json'];
      if (mode !== 'default') args.push('--verify', mode);
      await s3.clearRequests();
      const r = await run(repo, args);
      expect(r.code, r.err).toBe(EXIT.OK);
      const result = JSON.parse(r.out) as { uploaded: number; files: { key: string }[] };
      expect(result.uploaded).toBe(3);
      const requests = await s3.requests();
      for (const file of result.files) {
        expect(afterUpload(requests, `modes/${mode}/${file.key}`), `${mode}: ${file.key}`).toEqual(after);
      }
    }
  });

  it('--help says what each verification mode checks, and that put is the default', async () => {
    const help = await run(repo, ['migrate-assets', '--help']);
    expect(help.code).toBe(EXIT.OK);
    const text = help.out.replace(/\s+/g, ' ');
    expect(text).toContain("put: the upload fails unless the bytes sent match the file's size and sha256");
    expect(text).toContain('head: put, then a HEAD per object must show that size and sha256');
    expect(text).toContain('read-back: put, then each object is downloaded and hashed');
    expect(text).toContain('(choices: "put", "head", "read-back", default: "put")');
  });

  it('verify and pull work against the bucket', async () => {
    expect((await run(repo, ['verify', '--from', url])).code).toBe(EXIT.OK);
    await rm(join(repo, 'models/m.onnx'));
    const pulled = await run(repo, ['pull', '--from', url, '--json']);
    expect(pulled.code).toBe(EXIT.OK);
    expect(JSON.parse(pulled.out).restored).toBe(1);
    expect(sha256(await readFile(join(repo, 'models/m.onnx')))).toBe(sha256(FILES['models/m.onnx']));
  });

  it("verify and pull report the storage they used: --from, not the manifest's", async () => {
    // The same objects, through a URL the manifest does not record.
    const other = `${url}&publicUrl=https://cdn.example.com`;
    const shown = other.replace(`${s3.accessKeyId}:${s3.secretAccessKey}@`, '');
    const verified = await run(repo, ['verify', '--from', other, '--json']);
    expect(verified.code, verified.err).toBe(EXIT.OK);
    expect(JSON.parse(verified.out).storage).toBe(shown);
    const pulled = await run(repo, ['pull', '--from', other, '--json']);
    expect(pulled.code, pulled.err).toBe(EXIT.OK);
    expect(JSON.parse(pulled.out).storage).toBe(shown);
  });

  it('verify and pull: a missing bucket is one exit-3 error, checked before any file', async () => {
    const missing = url.replace(`@${s3.bucket}/`, '@no-such-bucket/');
    for (const command of ['verify', 'pull']) {
      const r = await run(repo, [command, '--from', missing]);
      expect(r.code, `${command}: ${r.err}`).toBe(EXIT.STORAGE);
      expect(r.err).toContain('storage s3://no-such-bucket/app/assets');
      expect(r.err).toContain('the bucket does not exist');
      expect(r.out + r.err).not.toContain('MISMATCH');
      expect(r.out + r.err).not.toContain(`${s3.accessKeyId}:${s3.secretAccessKey}`);
    }
  });

  it('refused credentials are ACCESS_DENIED, exit 3, naming where credentials are read from', async () => {
    const refused = url.replace(`${s3.accessKeyId}:${s3.secretAccessKey}@`, 'AKIDUNKNOWN:wrongsecret99@');
    for (const args of [
      ['verify', '--from', refused],
      ['pull', '--from', refused],
      ['migrate-assets', '--to', refused.replace('/app/assets?', '/refused?')],
    ]) {
      const r = await run(repo, [...args, '--json']);
      expect(r.code, `${args[0]}: ${r.err}`).toBe(EXIT.STORAGE);
      const { error } = JSON.parse(r.out);
      expect(error.code).toBe('ACCESS_DENIED');
      expect(error.message).toContain("the URL's user:password");
      expect(error.message).toContain('STOWAGE_URL naming the same bucket');
      expect(error.message).toContain('AWS_ACCESS_KEY_ID');
      expect(r.out + r.err).not.toContain('wrongsecret99');
    }
  });

  it('bad URL values and unknown parameters are usage errors (exit 2) before any work', async () => {
    const badEndpoint = url.replace(/endpoint=[^&]+/, 'endpoint=not-a-url');
    const typo = url.replace('region=', 'regoin=');
    for (const [args, message] of [
      [['verify', '--from', badEndpoint], 'endpoint must be an http(s) URL'],
      [['pull', '--from', typo], 'unknown parameter "regoin" (did you mean region?)'],
      [['migrate-assets', '--to', badEndpoint], 'endpoint must be an http(s) URL'],
      [
        ['migrate-assets', '--to', url.replace('forcePathStyle', 'forcepathstyle')],
        'did you mean forcePathStyle?',
      ],
    ] as const) {
      const r = await run(repo, [...args]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(EXIT.USAGE);
      expect(r.err).toContain(message);
      expect(r.err).not.toContain('hashing');
      expect(r.out + r.err).not.toContain(`${s3.accessKeyId}:${s3.secretAccessKey}`);
    }
  });

  it('migrate-assets checks the storage before hashing: a missing bucket hashes nothing', async () => {
    await writeFile(join(repo, 'public/new.png'), bytes(5000, 's3 new'));
    const missing = url.replace(`@${s3.bucket}/`, '@no-such-bucket/');
    const r = await run(repo, ['migrate-assets', '--to', missing]);
    expect(r.code).toBe(EXIT.STORAGE);
    expect(r.err).toContain('the bucket does not exist');
    expect(r.err).not.toContain('hashing');
    await rm(join(repo, 'public/new.png'));
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
