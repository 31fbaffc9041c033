import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { s3Adapter } from '../../adapters/s3/config/index.js';
import { resolveStorageTarget } from '../../src/cli/storage-target.js';
import { createStorage } from '../../src/config/create-storage.js';
import {
  ADAPTERS,
  type AdapterName,
  allDefinitions,
  parseWithRegistry,
  type StorageConfig,
  storageUrlOf,
  withAdapter,
} from '../../src/config/registry.js';
import { parseStorageUrl, resolveStorageConfig } from '../../src/config/resolve.js';
import { loadModel } from '../../src/loader/index.js';
import { redact } from '../../src/util/redact.js';
import { kvAdapter } from '../fixtures/kv-adapter.js';
import { expectCode } from '../helpers/streams.js';

describe('the scheme registry', () => {
  it('is the one list of adapters: StorageConfig is derived from it, one scheme each', () => {
    expectTypeOf<StorageConfig['adapter']>().toEqualTypeOf<AdapterName>();
    expectTypeOf<AdapterName>().toEqualTypeOf<'local' | 'memory' | 's3' | 'cloudinary'>();
    const schemes = Object.values(ADAPTERS).map((d) => d.scheme);
    expect(schemes).toEqual(['file', 'memory', 's3', 'cloudinary']);
    expect(new Set(allDefinitions().map(([, d]) => d.scheme)).size).toBe(schemes.length);
  });

  it('toUrl is the reverse of parsing, without the secrets', () => {
    const urls = [
      'file:/var/data?baseUrl=%2Ffiles',
      'memory://?baseUrl=%2Fm',
      's3://b/p/q?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000&preset=minio&forcePathStyle=true&publicUrl=%2Ffiles',
      'cloudinary://demo/app?upload_prefix=http%3A%2F%2F127.0.0.1%3A1',
    ];
    for (const url of urls) expect(storageUrlOf(parseStorageUrlOptional(url))).toBe(url);
    const withKeys = parseStorageUrl(
      `s3://AKID:rtsecret99@b?endpoint=${encodeURIComponent('https://minio:rtendpw99@minio.local:9000')}`,
    );
    const back = storageUrlOf(withKeys);
    expect(back).not.toContain('rtsecret99');
    expect(back).not.toContain('rtendpw99');
    expect(parseStorageUrl(back)).toMatchObject({ options: { endpoint: 'https://minio.local:9000' } });
  });

  it('registers secrets explicitly: an adapter parser is pure, the registry registers what secrets() names', () => {
    const url = 's3://AKID:pure-parse-secret-1@bucket';
    expect(s3Adapter.fromUrl(url, 'required')).toMatchObject({
      credentials: { secretAccessKey: 'pure-parse-secret-1' },
    });
    expect(redact('x pure-parse-secret-1')).toContain('pure-parse-secret-1');
    parseStorageUrl(url);
    expect(redact('x pure-parse-secret-1')).not.toContain('pure-parse-secret-1');
  });
});

describe('a new adapter needs only its registry line (test/fixtures/kv-adapter.ts)', () => {
  let remove: (() => void) | undefined;
  afterEach(() => {
    remove?.();
    remove = undefined;
  });

  it('is refused before its line, and everything takes it after: createStorage, env, lending, CLI, loader', async () => {
    const before = await expectCode(() => createStorage('kv://kvtoken-777@ns1'), 'INVALID_ARGUMENT');
    expect(before.message).toContain('unsupported storage URL scheme "kv:"');
    expect(before.message).toContain('s3://bucket/prefix');

    remove = withAdapter('kv', kvAdapter);

    // createStorage and the parser
    const storage = await createStorage('kv://kvtoken-777@ns1');
    await storage.put('models/m.bin', 'weights');
    expect(parseStorageUrl('kv://kvtoken-777@ns1')).toEqual({
      adapter: 'kv',
      options: { namespace: 'ns1', token: 'kvtoken-777' },
    });
    expect(redact('boom kvtoken-777')).not.toContain('kvtoken-777');
    expect((await expectCode(async () => parseStorageUrl('ftp://x'), 'INVALID_ARGUMENT')).message).toContain(
      'kv://token@namespace',
    );

    // env detection, in its kind's place (after STOWAGE_URL, as an add-on)
    const env = { KV_URL: 'kv://kvtoken-888@ns1' };
    expect(resolveStorageConfig(undefined, env)).toEqual({
      adapter: 'kv',
      source: 'KV add-on (KV_URL)',
      options: { namespace: 'ns1', token: 'kvtoken-888' },
    });
    expect(resolveStorageConfig(undefined, { ...env, STOWAGE_URL: 'memory://' }).source).toBe('STOWAGE_URL');

    // credential lending: a token-less URL borrows from the add-on naming the same namespace, else is refused
    expect(resolveStorageConfig('kv://ns1', env).options).toEqual({ namespace: 'ns1', token: 'kvtoken-888' });
    expect(
      (await expectCode(async () => resolveStorageConfig('kv://ns2', env), 'INVALID_ARGUMENT')).message,
    ).toBe('kv://ns2 has no token');

    // the CLI: its URL without the secret (toUrl), and a storage it opens
    const target = resolveStorageTarget(undefined, env);
    expect(target.url).toBe('kv://ns1');
    expect(await (await target.open()).exists('models/m.bin')).toBe(true);

    // the loader: kv://token@namespace/key is an object source
    const cacheDir = await mkdtemp(join(tmpdir(), 'stowage-registry-'));
    try {
      const file = await loadModel('kv://kvtoken-777@ns1/models/m.bin', { cacheDir, progressInterval: 0 });
      expect(await readFile(file, 'utf8')).toBe('weights');
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }

    remove();
    remove = undefined;
    await expectCode(() => createStorage('kv://kvtoken-777@ns1'), 'INVALID_ARGUMENT');
  });

  it('refuses a scheme or name that is taken', async () => {
    await expectCode(async () => withAdapter('s3', kvAdapter), 'INVALID_ARGUMENT');
    await expectCode(async () => withAdapter('kv2', { ...kvAdapter, scheme: 'file' }), 'INVALID_ARGUMENT');
  });
});

/** As a lock file's URL is read: credentials may be absent. */
function parseStorageUrlOptional(url: string): StorageConfig {
  return parseWithRegistry(url, 'optional');
}

describe('entry points of SDK-bound adapters', () => {
  // index.ts (top-level await, for import) and static-entry.ts (for require) must export the same values:
  // ESM cannot re-export a dynamic import's names, so the two lists are kept equal by this check,
  // for every adapter folder that has a static entry (a new one is checked without an edit here).
  const adaptersDir = join(import.meta.dirname, '..', '..', 'adapters');
  const bound = readdirSync(adaptersDir).filter((name) =>
    existsSync(join(adaptersDir, name, 'static-entry.ts')),
  );
  it('finds the SDK-bound adapters', () => {
    expect(bound).toEqual(expect.arrayContaining(['cloudinary', 's3']));
  });
  it.each(bound)('%s: index and static-entry export the same names', async (name) => {
    const esm = await import(pathToFileURL(join(adaptersDir, name, 'index.ts')).href);
    const cjs = await import(pathToFileURL(join(adaptersDir, name, 'static-entry.ts')).href);
    expect(Object.keys(esm).sort()).toEqual(Object.keys(cjs).sort());
  });
});
