import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { setLogger } from '../../src/util/log.js';
import { bytes, makeRepo, removeDir, run, sha256, tempDir } from './helpers.js';

const MODEL = bytes(200_000, 'model');
const LOGO = bytes(1500, 'logo');

function keyOf(data: Uint8Array, ext: string): string {
  const hash = sha256(data);
  return `sha256/${hash.slice(0, 2)}/${hash}${ext}`;
}

describe('stowage pull and verify', () => {
  // The loader's progress lines are not under test here.
  beforeAll(() => setLogger({ info: () => undefined, warn: () => undefined }));
  let repo: string;
  let store: string;

  beforeEach(async () => {
    repo = await makeRepo({ 'models/m.onnx': MODEL, 'public/logo.png': LOGO, 'index.js': 'run();\n' });
    store = await tempDir('store');
    expect((await run(repo, ['migrate-assets', '--to', `file:${store}`])).code).toBe(EXIT.OK);
  });
  afterEach(async () => {
    await removeDir(repo);
    await removeDir(store);
  });

  it('pull restores missing files verified, then finds them present', async () => {
    await rm(join(repo, 'models/m.onnx'));
    await writeFile(join(repo, 'public/logo.png'), 'stale');
    const first = await run(repo, ['pull', '--json']);
    expect(first.err).not.toContain('error');
    expect(first.code).toBe(EXIT.OK);
    const result = JSON.parse(first.out);
    expect(result.restored).toBe(2);
    expect(result.files.map((f: { path: string }) => f.path)).toEqual(['models/m.onnx', 'public/logo.png']);
    expect(sha256(await readFile(join(repo, 'models/m.onnx')))).toBe(sha256(MODEL));
    expect(sha256(await readFile(join(repo, 'public/logo.png')))).toBe(sha256(LOGO));
    const again = await run(repo, ['pull']);
    expect(again.code).toBe(EXIT.OK);
    expect(again.out).toContain('Restored 0 file(s), 0 B; 2 already present and verified.');
  });

  it('verify passes when storage and local files match', async () => {
    const r = await run(repo, ['verify']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('All 2 file(s) verified.');
    await rm(join(repo, 'models/m.onnx'));
    const partial = await run(repo, ['verify', '--json']);
    expect(partial.code).toBe(EXIT.OK);
    const files = JSON.parse(partial.out).files;
    expect(files.map((f: { local: string }) => f.local)).toEqual(['absent', 'ok']);
  });

  it('verify exits 1 on a corrupted object, a missing object or a changed local file', async () => {
    // Replaced behind the adapter's back: same size, other bytes (the read-back hash catches it).
    const modelPath = join(store, keyOf(MODEL, '.onnx'));
    await writeFile(`${modelPath}.new`, bytes(200_000, 'tampered'));
    await rename(`${modelPath}.new`, modelPath);
    await rm(join(store, keyOf(LOGO, '.png')));
    await writeFile(join(repo, 'public/logo.png'), 'changed locally');
    const r = await run(repo, ['verify', '--json']);
    expect(r.code).toBe(EXIT.FAILURE);
    const result = JSON.parse(r.out);
    expect(result.ok).toBe(false);
    expect(result.mismatches).toBe(2);
    expect(
      result.files.map((f: { path: string; remote: string; local: string }) => [f.path, f.remote, f.local]),
    ).toEqual([
      ['models/m.onnx', 'sha256', 'ok'],
      ['public/logo.png', 'missing', 'size'],
    ]);
    const text = await run(repo, ['verify']);
    expect(text.code).toBe(EXIT.FAILURE);
    expect(text.out).toContain('MISMATCH models/m.onnx');
    expect(text.out).toContain('2 of 2 file(s) do not match.');
  });

  it('verify --deep reads objects back even when storage reports a sha256', async () => {
    // Rewritten in place: the adapter's sidecar still vouches for the old bytes; only a read-back notices.
    await writeFile(join(store, keyOf(MODEL, '.onnx')), bytes(200_000, 'bit rot'));
    expect((await run(repo, ['verify'])).code).toBe(EXIT.OK);
    const deep = await run(repo, ['verify', '--deep', '--json']);
    expect(deep.code).toBe(EXIT.FAILURE);
    const files = JSON.parse(deep.out).files;
    expect(files.map((f: { remote: string }) => f.remote)).toEqual(['sha256', 'ok']);
    expect(files[1].remoteMethod).toBe('read-back');
  });

  it('without a manifest, pull and verify fail and say how to create one', async () => {
    await rm(join(repo, 'stowage.lock.json'));
    for (const command of ['pull', 'verify']) {
      const r = await run(repo, [command]);
      expect(r.code).toBe(EXIT.FAILURE);
      expect(r.err).toContain('stowage migrate-assets');
    }
  });

  it('a bad storage URL in the lock file is a usage error naming the lock file (exit 2)', async () => {
    const lockPath = join(repo, 'stowage.lock.json');
    const lock = JSON.parse(await readFile(lockPath, 'utf8'));
    await writeFile(lockPath, JSON.stringify({ ...lock, storage: `${lock.storage}?baseurl=/files` }));
    for (const command of ['pull', 'verify']) {
      const r = await run(repo, [command]);
      expect(r.code, r.err).toBe(EXIT.USAGE);
      expect(r.err).toContain(
        'storage of stowage.lock.json: file: URL: unknown parameter "baseurl" (did you mean baseUrl?)',
      );
    }
  });

  it('pull offline (STOWAGE_OFFLINE=1) never asks storage, not even whether it is reachable', async () => {
    // Nothing listens on port 9: any request would fail.
    const unreachable = 's3://AKIDX:secretx99@bucket?region=us-east-1&endpoint=http://127.0.0.1:9';
    const r = await run(repo, ['pull', '--from', unreachable, '--json'], { STOWAGE_OFFLINE: '1' });
    expect(r.code, r.err).toBe(EXIT.OK);
    expect(JSON.parse(r.out).present).toBe(2);
  });
});
