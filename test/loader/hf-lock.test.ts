import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { artifacts, loadArtifacts, resolveHfFiles } from '../../src/loader/index.js';
import { type Manifest, parseManifest, serializeManifest } from '../../src/loader/manifest.js';
import { codeBlocks, readmeSection } from '../docs/readme-snippets.js';
import { expectCode } from '../helpers/streams.js';
import { type HfHubEmulator, startHfHub } from '../servers/hf-hub.js';
import { blob, removeDir, sha256, tempDir } from './fixtures.js';

let hub: HfHubEmulator;
let root: string;
let cacheDir: string;
let commit: string;
const onnx = blob(300_000);
const external = blob(500_000);
const other = blob(2_000);
const config = Buffer.from('{"model_type":"bert"}\n');
const tokenizer = Buffer.from('{"version":"1.0"}\n');

beforeAll(async () => {
  hub = await startHfHub();
  commit = hub.addRepo('acme/onnx', [
    { path: 'config.json', data: config },
    { path: 'tokenizer.json', data: tokenizer },
    { path: 'onnx/model.onnx', data: onnx.data },
    { path: 'onnx/model.onnx_data', data: external.data },
    { path: 'onnx/other.bin', data: other.data },
  ]);
});

afterAll(async () => {
  await hub?.stop();
});

beforeEach(async () => {
  root = await tempDir('stowage-app-');
  cacheDir = await tempDir('stowage-cache-');
  hub.resetLog();
});

afterEach(async () => {
  await removeDir(root);
  await removeDir(cacheDir);
});

const opts = (extra: Record<string, unknown> = {}) => ({
  root,
  cacheDir,
  hfEndpoint: hub.url,
  progressInterval: 0,
  ...extra,
});

describe('resolveHfFiles', () => {
  it('pins a file to the commit, with size and sha256 (LFS from the listing, git files hashed)', async () => {
    const [weights] = await resolveHfFiles('hf://acme/onnx/onnx/model.onnx', opts());
    expect(weights).toEqual({
      source: `hf://acme/onnx@${commit}/onnx/model.onnx`,
      path: 'onnx/model.onnx',
      size: onnx.data.length,
      sha256: onnx.sha256,
      commit,
    });
    const [cfg] = await resolveHfFiles('hf://acme/onnx@main/config.json', opts());
    expect(cfg).toMatchObject({ path: 'config.json', size: config.length, sha256: sha256(config), commit });
  });

  it('expands a glob through the tree API', async () => {
    const files = await resolveHfFiles('hf://acme/onnx/onnx/model.onnx*', opts());
    expect(files.map((f) => f.path)).toEqual(['onnx/model.onnx', 'onnx/model.onnx_data']);
    expect(
      hub.log.some((r) => r.url.startsWith(`/api/models/acme/onnx/tree/${commit}/onnx?recursive=true`)),
    ).toBe(true);
    await expectCode(resolveHfFiles('hf://acme/onnx/onnx/*.gguf', opts()), 'NOT_FOUND');
  });
});

describe('loadArtifacts({ sources })', () => {
  it('restores a glob snapshot side by side under dir, at the files’ repo paths', async () => {
    const restored = await loadArtifacts(
      opts({
        sources: [
          'hf://acme/onnx/onnx/model.onnx*',
          'hf://acme/onnx/config.json',
          'hf://acme/onnx/tokenizer.json',
        ],
        dir: 'models/acme',
      }),
    );
    expect(restored.map((r) => r.path).sort()).toEqual([
      'models/acme/config.json',
      'models/acme/onnx/model.onnx',
      'models/acme/onnx/model.onnx_data',
      'models/acme/tokenizer.json',
    ]);
    const dir = join(root, 'models', 'acme');
    expect((await readFile(join(dir, 'onnx', 'model.onnx'))).equals(onnx.data)).toBe(true);
    expect((await readFile(join(dir, 'onnx', 'model.onnx_data'))).equals(external.data)).toBe(true);
    expect((await readFile(join(dir, 'config.json'))).equals(config)).toBe(true);
    expect((await readFile(join(dir, 'tokenizer.json'))).equals(tokenizer)).toBe(true);
  });

  it('takes hf:// URLs only', async () => {
    await expectCode(loadArtifacts(opts({ sources: ['https://example.invalid/x.bin'] })), 'INVALID_ARGUMENT');
  });
});

describe('stowage.lock.json entries with a pinned source', () => {
  async function writeLock(): Promise<Manifest> {
    const files = await resolveHfFiles('hf://acme/onnx/onnx/model.onnx*', opts());
    const manifest: Manifest = {
      version: 1,
      storage: '',
      files: files.map((f) => ({
        path: `models/${f.path}`,
        source: f.source,
        size: f.size,
        sha256: f.sha256,
      })),
    };
    await writeFile(join(root, 'stowage.lock.json'), serializeManifest(manifest));
    return manifest;
  }

  it('restores them, and boots warm with zero requests at the hub', async () => {
    await writeLock();
    const text = await readFile(join(root, 'stowage.lock.json'), 'utf8');
    expect(JSON.parse(text)).not.toHaveProperty('storage');
    const cold = await loadArtifacts(opts());
    expect(cold.map((r) => r.source)).toEqual(['download', 'download']);
    expect((await readFile(join(root, 'models', 'onnx', 'model.onnx_data'))).equals(external.data)).toBe(
      true,
    );

    hub.resetLog();
    await rm(join(root, 'models'), { recursive: true });
    const warm = await loadArtifacts(opts());
    expect(warm.map((r) => r.source)).toEqual(['cache', 'cache']);
    expect(hub.log).toHaveLength(0);
  });

  it('a branch that moves after the lock is written: the pinned commit is still what loads', async () => {
    await writeLock();
    hub.commit('acme/onnx', [{ path: 'onnx/model.onnx', data: blob(1_000).data }]);
    await loadArtifacts(opts());
    expect((await readFile(join(root, 'models', 'onnx', 'model.onnx'))).equals(onnx.data)).toBe(true);
    expect(hub.log.some((r) => r.url.includes(`/resolve/${commit}/onnx/model.onnx`))).toBe(true);
  });

  it('artifacts() restores them in the background', async () => {
    await writeLock();
    const handle = artifacts(opts({ attempts: 1 }));
    const files = await handle.ready;
    expect(files).toHaveLength(2);
    expect(handle.isReady()).toBe(true);
  });

  it('a lock sha256 the hub does not serve: CHECKSUM_MISMATCH', async () => {
    const manifest = await writeLock();
    const entry = manifest.files[0] as (typeof manifest.files)[0];
    entry.sha256 = sha256(Buffer.from('something else'));
    await expectCode(loadArtifacts(opts({ manifest })), 'CHECKSUM_MISMATCH');
  });
});

describe('lock-file format: key, source, origin', () => {
  const sha = 'a'.repeat(64);
  const pinned = `hf://acme/onnx@${'b'.repeat(40)}/onnx/model.onnx`;
  const parse = (files: unknown[], storage: string | null = 's3://bucket') =>
    parseManifest(JSON.stringify({ version: 1, ...(storage ? { storage } : {}), files }));

  it('accepts a source entry without storage, and a stored entry with its origin', () => {
    expect(parse([{ path: 'm.onnx', source: pinned, size: 1, sha256: sha }], null).files[0]).toEqual({
      path: 'm.onnx',
      source: pinned,
      size: 1,
      sha256: sha,
    });
    expect(
      parse([{ path: 'm.onnx', key: 'models/m.onnx', origin: pinned, size: 1, sha256: sha }]).files[0],
    ).toEqual({ path: 'm.onnx', key: 'models/m.onnx', origin: pinned, size: 1, sha256: sha });
  });

  it('refuses both or neither of key and source, unpinned hf sources, and keys without storage', () => {
    const bad = [
      [{ path: 'm', key: 'm', source: pinned, size: 1, sha256: sha }],
      [{ path: 'm', size: 1, sha256: sha }],
      [{ path: 'm', source: 'hf://acme/onnx@main/onnx/model.onnx', size: 1, sha256: sha }],
      [{ path: 'm', source: 'not a url', size: 1, sha256: sha }],
      [{ path: 'm', source: pinned, origin: pinned, size: 1, sha256: sha }],
    ];
    for (const files of bad) expect(() => parse(files)).toThrow(/key|source|pinned|origin/);
    expect(() => parse([{ path: 'm', key: 'm', size: 1, sha256: sha }], null)).toThrow(/storage/);
  });
});

describe('README: Models from the Hugging Face Hub', () => {
  it('its lock-file example is a valid lock', () => {
    const [json] = codeBlocks(readmeSection('Models from the Hugging Face Hub'), ['json']);
    const manifest = parseManifest(json as string, 'README example');
    expect(manifest.files[0]?.source).toMatch(/^hf:\/\/acme\/tiny-bert@[0-9a-f]{40}\//);
  });
});
