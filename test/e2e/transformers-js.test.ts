/**
 * Restored files handed to the libraries people load models with: an app
 * with @huggingface/transformers and onnxruntime-node installed from the
 * registry, a model directory in the Hugging Face layout (config.json,
 * tokenizer.json, tokenizer_config.json, onnx/model.onnx; made by
 * fixtures/tiny-sentiment/make.py) moved to storage with the stowage CLI,
 * then restored by loadArtifacts() under models/<org>/<repo>/ and loaded
 * by transformers.js with allowRemoteModels = false, and by
 * InferenceSession.create(path).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, readmeSection } from '../docs/readme-snippets.js';
import { npm, npmEnv, packStowage } from './npm-app.js';

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, 'fixtures');
const MODEL_DIR = 'models/my-org/sentiment';
const MODEL_FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
let work: string;
let app: string;

interface Output {
  restored: { path: string; source: string }[];
  labels: { label: string; score: number }[];
  inputs: string[];
  logits: number[];
}

async function classify(...texts: string[]): Promise<Output> {
  const { stdout } = await run(process.execPath, ['classify.mjs', ...texts], { cwd: app, env: npmEnv() });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Output;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-transformers-'));
  const tarball = await packStowage(join(work, 'lib'));
  app = join(work, 'app');
  await mkdir(app, { recursive: true });
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'transformers-app',
      private: true,
      type: 'module',
      dependencies: {
        '@huggingface/transformers': '4.3.2',
        'onnxruntime-node': '1.30.0',
        stowage: `file:${tarball}`,
      },
      allowScripts: { 'onnxruntime-node': true },
    }),
  );
  // As in examples/onnx-model: onnxruntime-node's postinstall must not fetch CUDA binaries.
  await cp(join(import.meta.dirname, '../../examples/onnx-model/.npmrc'), join(app, '.npmrc'));
  await cp(join(FIXTURES, 'transformers-app', 'classify.mjs'), join(app, 'classify.mjs'));
  // The README's snippet as written, plus a line that prints what it made.
  const [snippet] = codeBlocks(readmeSection('Using restored files with transformers.js'), ['js']);
  if (!snippet) throw new Error('the README section has no js block');
  await writeFile(
    join(app, 'readme.mjs'),
    `${snippet}\nconsole.log(JSON.stringify({ files: files.map((f) => f.path), labels: await classify('a wonderful film'), inputs: session.inputNames }));\n`,
  );
  await npm(app, ['install']);

  // The publish step: the model directory, staged with its original names, moved to storage.
  const stage = join(work, 'stage');
  for (const file of MODEL_FILES) {
    await mkdir(join(stage, MODEL_DIR, file, '..'), { recursive: true });
    await cp(join(FIXTURES, 'tiny-sentiment', file), join(stage, MODEL_DIR, file));
  }
  await run(
    process.execPath,
    [
      join(app, 'node_modules/stowage/dist/src/cli/bin.js'),
      'migrate-assets',
      'models/**',
      '--to',
      `file:${join(work, 'store')}`,
      '--manifest',
      join(app, 'stowage.lock.json'),
    ],
    { cwd: stage, env: npmEnv() },
  );
}, 900_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('restored files in transformers.js and onnxruntime-node', () => {
  it('transformers.js loads the restored model directory with remote models off, and classifies', async () => {
    const out = await classify('a wonderful film, i loved it', 'slow delivery, broken, i want a refund');
    expect(out.restored).toEqual(
      MODEL_FILES.map((file) => ({ path: `${MODEL_DIR}/${file}`, source: 'download' })),
    );
    // Two positive words: logits [-2, 2], softmax 0.982; three negative: [3, -3], 0.9975.
    expect(out.labels.map((l) => l.label)).toEqual(['POSITIVE', 'NEGATIVE']);
    expect(out.labels[0]?.score).toBeCloseTo(1 / (1 + Math.exp(-4)), 5);
    expect(out.labels[1]?.score).toBeCloseTo(1 / (1 + Math.exp(-6)), 5);
    // onnxruntime-node on the restored path, fed the tokenizer's ids: the same logits.
    expect(out.inputs).toEqual(['input_ids', 'attention_mask']);
    expect(out.logits).toEqual([-2, 2]);
  });

  it("runs the README's snippet as written", async () => {
    const { stdout } = await run(process.execPath, ['readme.mjs'], { cwd: app, env: npmEnv() });
    const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
    expect(out.files).toEqual(MODEL_FILES.map((file) => `${MODEL_DIR}/${file}`));
    expect(out.labels).toEqual([{ label: 'POSITIVE', score: expect.closeTo(1 / (1 + Math.exp(-2)), 5) }]);
    expect(out.inputs).toEqual(['input_ids', 'attention_mask']);
  });

  it('a file lost from the model directory comes back from the cache before transformers.js reads it', async () => {
    await rm(join(app, MODEL_DIR, 'tokenizer.json'));
    const out = await classify('great service, very happy');
    expect(out.restored.find((f) => f.path.endsWith('/tokenizer.json'))?.source).toBe('cache');
    expect(out.labels[0]?.label).toBe('POSITIVE');
    expect(JSON.parse(await readFile(join(app, MODEL_DIR, 'config.json'), 'utf8')).model_type).toBe('bert');
  });
});
