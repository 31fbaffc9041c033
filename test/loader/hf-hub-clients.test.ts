import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { downloadFileToCacheDir } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HfHubEmulator, startHfHub } from '../servers/hf-hub.js';
import { removeDir, tempDir } from './fixtures.js';

// The emulator checked against the official clients, which nobody here wrote.
// python3 with huggingface_hub is installed by .ci/run: missing, these tests fail.
const run = promisify(execFile);

let hub: HfHubEmulator;
let home: string;
const weights = randomBytes(300_000);
const config = Buffer.from('{"model_type":"bert","hidden_size":8}\n');
const shard = randomBytes(5_000);
let commit: string;
let prCommit: string;

beforeAll(async () => {
  hub = await startHfHub();
  home = await tempDir('stowage-hf-home-');
  commit = hub.addRepo('acme/tiny', [
    { path: 'config.json', data: config },
    { path: 'onnx/model.onnx', data: weights },
  ]);
  prCommit = hub.commit('acme/tiny', [{ path: 'onnx/model.onnx', data: shard }], { branch: 'refs/pr/1' });
  hub.addRepo('acme/gated', [{ path: 'model.bin', data: weights }], { gated: true });
  hub.addRepo('acme/corpus', [{ path: 'data/train.bin', data: shard }], { type: 'dataset' });
});

afterAll(async () => {
  await hub?.stop();
  await removeDir(home);
});

const PY = `
import json, sys
from huggingface_hub import hf_hub_download
a = json.loads(sys.argv[1])
print(hf_hub_download(a["repo"], a["path"], revision=a.get("revision"), repo_type=a.get("type"), token=a.get("token") or False))
`;

async function python(args: Record<string, unknown>): Promise<string> {
  const { stdout } = await run('python3', ['-c', PY, JSON.stringify(args)], {
    env: {
      // The machine's environment (pyenv and kin) minus any Hugging Face settings it has.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING_FACE_)/.test(k))),
      HF_HOME: join(home, 'py'),
      HF_ENDPOINT: hub.url,
      HF_HUB_DISABLE_TELEMETRY: '1',
      HF_HUB_DISABLE_XET: '1',
      HF_HUB_DISABLE_PROGRESS_BARS: '1',
    },
  });
  return stdout.trim().split('\n').pop() as string;
}

describe('hub emulator against huggingface_hub (Python)', () => {
  it('hf_hub_download gets byte-identical LFS (via the CDN) and non-LFS files', async () => {
    hub.resetLog();
    expect(
      (await readFile(await python({ repo: 'acme/tiny', path: 'onnx/model.onnx' }))).equals(weights),
    ).toBe(true);
    expect((await readFile(await python({ repo: 'acme/tiny', path: 'config.json' }))).equals(config)).toBe(
      true,
    );
    // The LFS bytes came from the CDN host, not the hub.
    expect(hub.log.some((r) => r.server === 'cdn' && r.method === 'GET' && r.status === 200)).toBe(true);
  });

  it('a pinned commit, refs/pr/1, a dataset repo and a gated repo with its token', async () => {
    expect(
      (await readFile(await python({ repo: 'acme/tiny', path: 'onnx/model.onnx', revision: commit }))).equals(
        weights,
      ),
    ).toBe(true);
    expect(
      (
        await readFile(await python({ repo: 'acme/tiny', path: 'onnx/model.onnx', revision: 'refs/pr/1' }))
      ).equals(shard),
    ).toBe(true);
    expect(prCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(
      (await readFile(await python({ repo: 'acme/corpus', path: 'data/train.bin', type: 'dataset' }))).equals(
        shard,
      ),
    ).toBe(true);
    // Without the token first: once cached, huggingface_hub falls back to its cache on any hub error.
    await expect(python({ repo: 'acme/gated', path: 'model.bin' })).rejects.toThrow(/GatedRepoError/);
    expect(
      (await readFile(await python({ repo: 'acme/gated', path: 'model.bin', token: hub.token }))).equals(
        weights,
      ),
    ).toBe(true);
  });
});

describe('hub emulator against @huggingface/hub (JS)', () => {
  it('downloadFileToCacheDir gets byte-identical LFS and non-LFS files', async () => {
    const cacheDir = join(home, 'js');
    const onnx = await downloadFileToCacheDir({
      repo: 'acme/tiny',
      path: 'onnx/model.onnx',
      hubUrl: hub.url,
      cacheDir,
    });
    expect((await readFile(onnx)).equals(weights)).toBe(true);
    const cfg = await downloadFileToCacheDir({
      repo: 'acme/tiny',
      path: 'config.json',
      hubUrl: hub.url,
      cacheDir,
    });
    expect((await readFile(cfg)).equals(config)).toBe(true);
    const pr = await downloadFileToCacheDir({
      repo: 'acme/tiny',
      path: 'onnx/model.onnx',
      revision: 'refs/pr/1',
      hubUrl: hub.url,
      cacheDir,
    });
    expect((await readFile(pr)).equals(shard)).toBe(true);
    const gated = await downloadFileToCacheDir({
      repo: 'acme/gated',
      path: 'model.bin',
      hubUrl: hub.url,
      cacheDir,
      accessToken: hub.token,
    });
    expect((await readFile(gated)).equals(weights)).toBe(true);
    const dataset = await downloadFileToCacheDir({
      repo: { type: 'dataset', name: 'acme/corpus' },
      path: 'data/train.bin',
      hubUrl: hub.url,
      cacheDir,
    });
    expect((await readFile(dataset)).equals(shard)).toBe(true);
  });
});
