import { access, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { migrateAssets, type UploadVerification } from '../../src/cli/migrate-assets.js';
import { SLUGIGNORE_HEADER } from '../../src/cli/slugignore.js';
import { StowageError } from '../../src/core/errors.js';
import { bytes, CountingStorage, git, makeRepo, removeDir, run, sha256, tempDir } from './helpers.js';

const FILES = {
  'data/blob.dat': bytes(1_100_000, 'blob'),
  'fonts/a.woff2': bytes(1000, 'font'),
  'models/model.onnx': bytes(300_000, 'model'),
  'public/logo.png': bytes(2000, 'logo'),
  'src/vendor.js': `// bundled\n${'x'.repeat(1_050_000)}\n`,
  'src/index.js': 'console.log("hi");\n',
  'README.md': '# app\n',
  'package.json': '{"name":"app"}\n',
};
const MOVED = ['data/blob.dat', 'fonts/a.woff2', 'models/model.onnx', 'public/logo.png'] as const;

function keyOf(path: (typeof MOVED)[number]): string {
  const hash = sha256(FILES[path]);
  const ext = path.slice(path.lastIndexOf('.'));
  return `sha256/${hash.slice(0, 2)}/${hash}${ext}`;
}

const TYPES: Record<string, string> = { 'fonts/a.woff2': 'font/woff2', 'public/logo.png': 'image/png' };

function expectedManifest(storage: string, paths: readonly (typeof MOVED)[number][] = MOVED): string {
  const files = paths.map((path) => ({
    path,
    key: keyOf(path),
    size: FILES[path].length,
    sha256: sha256(FILES[path]),
    ...(TYPES[path] ? { contentType: TYPES[path] } : {}),
  }));
  return `${JSON.stringify({ version: 1, storage, files }, null, 2)}\n`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function storedKeys(root: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of new LocalStorage({ root }).list('')) keys.push(info.key);
  return keys.sort();
}

describe('stowage migrate-assets (local storage)', () => {
  let repo: string;
  let store: string;
  let url: string;

  beforeEach(async () => {
    repo = await makeRepo(FILES);
    store = await tempDir('store');
    url = `file:${store}`;
  });
  afterEach(async () => {
    await removeDir(repo);
    await removeDir(store);
  });

  it('--dry-run prints the exact plan and the slug bytes saved, and writes nothing', async () => {
    const r = await run(repo, ['migrate-assets', '--to', url, '--dry-run']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toBe(
      [
        'Dry run: nothing is uploaded or written.',
        `Storage: ${url}`,
        `  upload    1.1 MB  data/blob.dat -> ${keyOf('data/blob.dat')}`,
        `  upload    1.0 kB  fonts/a.woff2 -> ${keyOf('fonts/a.woff2')}`,
        `  upload    300 kB  models/model.onnx -> ${keyOf('models/model.onnx')}`,
        `  upload    2.0 kB  public/logo.png -> ${keyOf('public/logo.png')}`,
        '4 file(s), 1.4 MB: 4 to upload (1.4 MB), 0 already stored.',
        'Slug shrinks by 1.4 MB (1403000 bytes).',
        '',
      ].join('\n'),
    );
    expect(await exists(join(repo, 'stowage.lock.json'))).toBe(false);
    expect(await exists(join(repo, '.slugignore'))).toBe(false);
    expect(await readdir(store)).toEqual([]);
  });

  it('uploads, verifies, writes the manifest and .slugignore exactly, and keeps the local files', async () => {
    const r = await run(repo, ['migrate-assets', '--to', url]);
    expect(r.err).not.toContain('error');
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Uploaded 4 file(s), 1.4 MB; 0 already stored; 4 hashed.');
    expect(r.out).toContain('Slug shrinks by 1.4 MB (1403000 bytes).');
    expect(await readFile(join(repo, 'stowage.lock.json'), 'utf8')).toBe(expectedManifest(url));
    expect(await readFile(join(repo, '.slugignore'), 'utf8')).toBe(
      `${SLUGIGNORE_HEADER}\n/data/blob.dat\n/fonts/a.woff2\n/models/model.onnx\n/public/logo.png\n`,
    );
    expect(await storedKeys(store)).toEqual(MOVED.map(keyOf).sort());
    const local = new LocalStorage({ root: store });
    for (const path of MOVED) {
      const info = await local.head(keyOf(path));
      expect(info.sha256).toBe(sha256(FILES[path]));
      expect(sha256(await readFile(join(repo, path)))).toBe(sha256(FILES[path]));
    }
  });

  it('a re-run with nothing changed uploads nothing and hashes nothing', async () => {
    expect((await run(repo, ['migrate-assets', '--to', url])).code).toBe(EXIT.OK);
    const manifest = await readFile(join(repo, 'stowage.lock.json'), 'utf8');
    const slugignore = await readFile(join(repo, '.slugignore'), 'utf8');
    const storage = new CountingStorage(new LocalStorage({ root: store }));
    const result = await migrateAssets({ cwd: repo, storage, storageUrl: url });
    expect(storage.puts).toEqual([]);
    // Known stored from the first run: storage is not even asked.
    expect([storage.heads, storage.lists]).toEqual([0, 0]);
    expect(result.knownStored).toBe(4);
    expect(result.uploaded).toBe(0);
    expect(result.hashed).toBe(0);
    expect(result.alreadyStored).toBe(4);
    expect(result.slugBytesSaved).toBe(0);
    expect(result.slugignoreAdded).toEqual([]);
    expect(await readFile(join(repo, 'stowage.lock.json'), 'utf8')).toBe(manifest);
    expect(await readFile(join(repo, '.slugignore'), 'utf8')).toBe(slugignore);
  });

  it('--recheck asks storage again and re-uploads an object removed behind its back', async () => {
    expect((await run(repo, ['migrate-assets', '--to', url])).code).toBe(EXIT.OK);
    await new LocalStorage({ root: store }).delete(keyOf('fonts/a.woff2'));
    const trusting = new CountingStorage(new LocalStorage({ root: store }));
    expect((await migrateAssets({ cwd: repo, storage: trusting, storageUrl: url })).uploaded).toBe(0);
    const checking = new CountingStorage(new LocalStorage({ root: store }));
    const result = await migrateAssets({ cwd: repo, storage: checking, storageUrl: url, recheck: true });
    expect(checking.puts).toEqual([keyOf('fonts/a.woff2')]);
    expect(result.knownStored).toBe(0);
    expect((await run(repo, ['verify'])).code).toBe(EXIT.OK);
  });

  it('--verify head and --verify read-back upload and verify too', async () => {
    for (const mode of ['head', 'read-back']) {
      const dir = await tempDir(`store-${mode}`);
      try {
        const r = await run(repo, ['migrate-assets', '--to', `file:${dir}`, '--verify', mode, '--json']);
        expect(r.code).toBe(EXIT.OK);
        expect(JSON.parse(r.out).uploaded).toBe(4);
        expect(await storedKeys(dir)).toEqual(MOVED.map(keyOf).sort());
      } finally {
        await removeDir(dir);
      }
    }
    expect((await run(repo, ['migrate-assets', '--to', url, '--verify', 'maybe'])).code).toBe(EXIT.USAGE);
  });

  it('each verification mode fails the run on what it checks, and writes no manifest', async () => {
    /** Storage that lies in one place: the bytes it stores, what HEAD reports, or what GET returns. */
    const lying = (fault: 'stored bytes' | 'head sha256' | 'read bytes') => {
      const inner = new LocalStorage({ root: store });
      const storage = new CountingStorage(inner);
      const flip = (data: Uint8Array) => {
        const copy = Buffer.from(data);
        copy[0] = copy[0]! ^ 0xff;
        return copy;
      };
      if (fault === 'stored bytes') {
        const put = storage.put.bind(storage);
        storage.put = async (key, body, opts) => {
          if (!(body instanceof Uint8Array)) throw new Error('test expects small files read whole');
          return put(key, flip(body), opts);
        };
      }
      if (fault === 'head sha256') {
        storage.head = async (key) => ({ ...(await inner.head(key)), sha256: '0'.repeat(64) });
      }
      if (fault === 'read bytes') {
        storage.get = async (key, opts) => {
          const { info, body } = await inner.get(key, opts);
          const chunks: Buffer[] = [];
          for await (const chunk of body) chunks.push(chunk as Buffer);
          return { info, body: Readable.from([flip(Buffer.concat(chunks))]) };
        };
      }
      return storage;
    };
    const attempt = (fault: Parameters<typeof lying>[0], verify: 'put' | 'head' | 'read-back') =>
      migrateAssets({ cwd: repo, storage: lying(fault), storageUrl: url, verify, recheck: true });

    // put (the default): the adapter refuses bytes that do not hash to the file's sha256.
    await expect(attempt('stored bytes', 'put')).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await expect(
      migrateAssets({ cwd: repo, storage: lying('stored bytes'), storageUrl: url, recheck: true }),
    ).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    // head: a stored sha256 that differs fails; put alone does not ask.
    await expect(attempt('head sha256', 'head')).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(await exists(join(repo, 'stowage.lock.json'))).toBe(false);
    await removeDir(store);
    expect((await attempt('head sha256', 'put')).uploaded).toBe(4);
    // read-back: bytes served that differ fail; head trusts the recorded sha256.
    await removeDir(store);
    await expect(attempt('read bytes', 'read-back')).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await removeDir(store);
    expect((await attempt('read bytes', 'head')).uploaded).toBe(4);
  });

  it('a changed file re-uploads only itself and updates only its manifest entry', async () => {
    expect((await run(repo, ['migrate-assets', '--to', url])).code).toBe(EXIT.OK);
    const changed = bytes(300_000, 'model v2');
    await writeFile(join(repo, 'models/model.onnx'), changed);
    const storage = new CountingStorage(new LocalStorage({ root: store }));
    const result = await migrateAssets({ cwd: repo, storage, storageUrl: url });
    const newKey = `sha256/${sha256(changed).slice(0, 2)}/${sha256(changed)}.onnx`;
    expect(storage.puts).toEqual([newKey]);
    expect(result.hashed).toBe(1);
    const manifest = JSON.parse(await readFile(join(repo, 'stowage.lock.json'), 'utf8'));
    const expected = JSON.parse(expectedManifest(url));
    expected.files[2] = { ...expected.files[2], key: newKey, sha256: sha256(changed) };
    expect(manifest).toEqual(expected);
  });

  it('an interrupted run resumes: the re-run uploads only what is missing and completes', async () => {
    const first = new CountingStorage(new LocalStorage({ root: store }));
    first.failAfterPuts = 1;
    await expect(
      migrateAssets({ cwd: repo, storage: first, storageUrl: url, concurrency: 1 }),
    ).rejects.toThrow('injected failure');
    expect(first.puts).toHaveLength(1);
    expect(await exists(join(repo, 'stowage.lock.json'))).toBe(false);
    expect(await exists(join(repo, '.slugignore'))).toBe(false);

    const second = new CountingStorage(new LocalStorage({ root: store }));
    const result = await migrateAssets({ cwd: repo, storage: second, storageUrl: url });
    expect(result.hashed).toBe(0);
    expect(second.puts.sort()).toEqual(
      MOVED.map(keyOf)
        .filter((k) => k !== first.puts[0])
        .sort(),
    );
    expect(result.alreadyStored).toBe(1);
    expect(await readFile(join(repo, 'stowage.lock.json'), 'utf8')).toBe(expectedManifest(url));
    expect((await run(repo, ['verify'])).code).toBe(EXIT.OK);
  });

  it('keeps existing .slugignore lines, adds the header once and never duplicates a path', async () => {
    await writeFile(join(repo, '.slugignore'), '*.log\n/public/logo.png');
    expect((await run(repo, ['migrate-assets', '--to', url])).code).toBe(EXIT.OK);
    await writeFile(join(repo, 'public/extra.png'), bytes(500, 'extra'));
    git(repo, 'add', 'public/extra.png');
    expect((await run(repo, ['migrate-assets', '--to', url])).code).toBe(EXIT.OK);
    expect(await readFile(join(repo, '.slugignore'), 'utf8')).toBe(
      `*.log\n/public/logo.png\n\n${SLUGIGNORE_HEADER}\n/data/blob.dat\n/fonts/a.woff2\n/models/model.onnx\n/public/extra.png\n`,
    );
  });

  it('selects by globs, and by globs with --min-size (both must hold)', async () => {
    const globs = await run(repo, [
      'migrate-assets',
      '--to',
      url,
      '--dry-run',
      '--json',
      '**/*.png',
      'data/**',
    ]);
    expect(JSON.parse(globs.out).files.map((f: { path: string }) => f.path)).toEqual([
      'data/blob.dat',
      'public/logo.png',
    ]);
    const both = await run(repo, [
      'migrate-assets',
      '--to',
      url,
      '--dry-run',
      '--json',
      '--min-size',
      '1MB',
      '**/*.png',
      'data/**',
    ]);
    expect(JSON.parse(both.out).files.map((f: { path: string }) => f.path)).toEqual(['data/blob.dat']);
    const sizeOnly = await run(repo, [
      'migrate-assets',
      '--to',
      url,
      '--dry-run',
      '--json',
      '--min-size',
      '250kB',
    ]);
    expect(JSON.parse(sizeOnly.out).files.map((f: { path: string }) => f.path)).toEqual([
      'data/blob.dat',
      'models/model.onnx',
      'src/vendor.js',
    ]);
  });

  it('--keep-paths uses the paths as keys; a re-run uploads nothing', async () => {
    expect((await run(repo, ['migrate-assets', '--to', url, '--keep-paths'])).code).toBe(EXIT.OK);
    expect(await storedKeys(store)).toEqual([...MOVED]);
    const manifest = JSON.parse(await readFile(join(repo, 'stowage.lock.json'), 'utf8'));
    expect(manifest.files.map((f: { key: string }) => f.key)).toEqual([...MOVED]);
    const storage = new CountingStorage(new LocalStorage({ root: store }));
    const result = await migrateAssets({ cwd: repo, storage, storageUrl: url, keepPaths: true });
    expect(storage.puts).toEqual([]);
    expect(result.alreadyStored).toBe(4);
    // Same size, other bytes, same key: uploaded again.
    await writeFile(join(repo, 'public/logo.png'), bytes(2000, 'logo v2'));
    const changed = new CountingStorage(new LocalStorage({ root: store }));
    await migrateAssets({ cwd: repo, storage: changed, storageUrl: url, keepPaths: true });
    expect(changed.puts).toEqual(['public/logo.png']);
  });

  it('--untrack removes the moved files from the index and leaves them on disk', async () => {
    const r = await run(repo, ['migrate-assets', '--to', url, '--untrack']);
    expect(r.code).toBe(EXIT.OK);
    const tracked = git(repo, 'ls-files').trim().split('\n');
    for (const path of MOVED) {
      expect(tracked).not.toContain(path);
      expect((await stat(join(repo, path))).size).toBe(FILES[path].length);
    }
    expect(tracked).toContain('src/vendor.js');
    // Untracked now, but still in the manifest: a re-run keeps them and uploads nothing.
    const storage = new CountingStorage(new LocalStorage({ root: store }));
    const again = await migrateAssets({ cwd: repo, storage, storageUrl: url });
    expect(again.files.map((f) => f.path)).toEqual([...MOVED]);
    expect(storage.puts).toEqual([]);
  });

  it('takes the storage from STOWAGE_URL, and fails as a usage error without any', async () => {
    const none = await run(repo, ['migrate-assets']);
    expect(none.code).toBe(EXIT.USAGE);
    expect(none.err).toContain('pass --to <storage-url>');
    const fromEnv = await run(repo, ['migrate-assets', '--json'], { STOWAGE_URL: url });
    expect(fromEnv.code).toBe(EXIT.OK);
    expect(JSON.parse(fromEnv.out).uploaded).toBe(4);
  });

  it('--json prints the whole result', async () => {
    const r = await run(repo, ['migrate-assets', '--to', url, '--json']);
    expect(r.code).toBe(EXIT.OK);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({
      dryRun: false,
      storage: url,
      uploaded: 4,
      uploadedBytes: 1_403_000,
      slugBytesSaved: 1_403_000,
      manifest: 'stowage.lock.json',
    });
    expect(result.files.map((f: { path: string; action: string }) => [f.path, f.action])).toEqual(
      MOVED.map((p) => [p, 'upload']),
    );
  });

  it('never migrates symbolic links, and refuses --untrack outside git', async () => {
    await symlink('models/model.onnx', join(repo, 'link.onnx'));
    git(repo, 'add', 'link.onnx');
    const r = await run(repo, ['migrate-assets', '--to', url, '--dry-run', '--json']);
    expect(JSON.parse(r.out).files.map((f: { path: string }) => f.path)).toEqual([...MOVED]);
    const plain = await tempDir('plain');
    try {
      const untrack = await run(plain, ['migrate-assets', '--to', url, '--untrack']);
      expect(untrack.code).toBe(EXIT.USAGE);
      expect(untrack.err).toContain('--untrack needs a git repository');
    } finally {
      await removeDir(plain);
    }
  });

  it('the programmatic API refuses bad options with INVALID_ARGUMENT, worded for a programmer', async () => {
    const storage = new LocalStorage({ root: store });
    const plain = await tempDir('plain');
    try {
      for (const [options, message] of [
        [{ minSize: -1 }, 'options.minSize must be a non-negative integer (bytes), got -1'],
        [{ concurrency: 0 }, 'options.concurrency must be an integer from 1 to 256, got 0'],
        [
          { verify: 'maybe' as UploadVerification },
          'options.verify must be "put", "head" or "read-back", got "maybe"',
        ],
        [{ cwd: plain, untrack: true }, 'options.untrack needs a git repository'],
        [{ storageUrl: undefined }, 'options.storage needs options.storageUrl too'],
      ] as const) {
        const err = await migrateAssets({ cwd: repo, storage, storageUrl: url, ...options }).catch((e) => e);
        expect(err).toBeInstanceOf(StowageError);
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.message).toContain(message);
        expect(err.message).not.toContain('--');
      }
      const none = await migrateAssets({ cwd: repo, env: {} }).catch((e) => e);
      expect(none).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('pass options.to'),
      });
    } finally {
      await removeDir(plain);
    }
  });

  it('the CLI says the same refusals in its own words, code INVALID_ARGUMENT, exit 2', async () => {
    const none = await run(repo, ['migrate-assets', '--json'], {});
    expect(none.code).toBe(EXIT.USAGE);
    expect(JSON.parse(none.out).error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('no storage configured: pass --to <storage-url>'),
    });
  });

  it('bad arguments are usage errors (exit 2)', async () => {
    expect((await run(repo, ['migrate-assets', '--min-size', 'huge'])).code).toBe(EXIT.USAGE);
    expect((await run(repo, ['migrate-assets', '--concurrency', '0'])).code).toBe(EXIT.USAGE);
    expect((await run(repo, ['migrate-assets', '--bogus'])).code).toBe(EXIT.USAGE);
    expect((await run(repo, ['migrate-assets', '--to', 'ftp://x/y'])).code).toBe(EXIT.USAGE);
  });

  it('never prints credentials from the storage URL', async () => {
    const secret = 'wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY';
    const s3url = `s3://AKIDEXAMPLE:${secret}@missing-bucket/assets?region=us-east-1&endpoint=http://127.0.0.1:9&forcePathStyle=true`;
    for (const argv of [
      ['migrate-assets', '--to', s3url],
      ['migrate-assets', '--to', s3url, '--json'],
      ['migrate-assets', '--to', s3url, '--dry-run'],
    ]) {
      const r = await run(repo, argv);
      expect(r.code).toBe(EXIT.STORAGE);
      expect(r.out + r.err).not.toContain(secret);
      expect(r.err).toContain('missing-bucket');
    }
  });
});
