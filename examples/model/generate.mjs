#!/usr/bin/env node
/**
 * The "training job": fits the sentiment model on the built-in corpus and
 * writes its weights (a binary float32 file of the requested size).
 *
 *   node generate.mjs [--mb 4] [--out models/sentiment.f32]   write the file
 *   node generate.mjs --publish [--mb 4]                      upload it to storage
 *                                                             and write stowage.lock.json
 * --publish stores the weights where STOWAGE_URL points (default: the local
 * folder ./model-store), the way a training pipeline publishes to a bucket;
 * the server then restores them at boot. --if-missing does nothing when the
 * output (or, with --publish, stowage.lock.json) already exists.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS } from './corpus.mjs';
import { bucketOf, features, HEADER_BYTES, header } from './model.mjs';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '4' },
    out: { type: 'string', default: 'models/sentiment.f32' },
    publish: { type: 'boolean', default: false },
    'if-missing': { type: 'boolean', default: false },
  },
});

const mb = Number(args.mb);
if (!(mb > 0 && mb <= 4096)) throw new Error('--mb must be a size in MiB between 0 and 4096, e.g. --mb 4');
const buckets = Math.floor((mb * 1024 * 1024 - HEADER_BYTES) / 4);
const LOCAL_STORE = 'file:./model-store';

/** The store a publish targets, and the same URL without credentials (what stowage.lock.json records). */
const target = process.env.STOWAGE_URL || LOCAL_STORE;
function withoutCredentials(url) {
  if (!url.includes('@')) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

if (args['if-missing']) {
  if (args.publish) {
    // Published already, to this same store: nothing to do.
    const lock = await readFile('stowage.lock.json', 'utf8').then(JSON.parse, () => undefined);
    if (lock?.storage === withoutCredentials(target)) process.exit(0);
  } else if (
    await stat(args.out).then(
      () => true,
      () => false,
    )
  )
    process.exit(0);
}

/** Small deterministic noise for every bucket no training example touches (as a freshly initialised model has). */
function noise(i) {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return (h / 2 ** 32 - 0.5) * 0.02;
}

/** Logistic regression by stochastic gradient descent; only touched weights are kept in memory. */
function train() {
  const weights = new Map();
  let bias = 0;
  const rate = 0.5;
  const examples = CORPUS.map(([text, label]) => [features(text).map((f) => bucketOf(f, buckets)), label]);
  for (let epoch = 0; epoch < 200; epoch++) {
    for (const [ids, label] of examples) {
      let z = bias;
      for (const id of ids) z += weights.get(id) ?? noise(id);
      const error = 1 / (1 + Math.exp(-z)) - label;
      bias -= rate * error * 0.1;
      for (const id of ids) weights.set(id, (weights.get(id) ?? noise(id)) - rate * error);
    }
  }
  return { weights, bias };
}

async function writeModel(path) {
  const { weights, bias } = train();
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  try {
    await file.write(header(buckets, bias));
    const chunk = new Float32Array(4 * 1024 * 1024);
    for (let start = 0; start < buckets; start += chunk.length) {
      const n = Math.min(chunk.length, buckets - start);
      for (let i = 0; i < n; i++) chunk[i] = weights.get(start + i) ?? noise(start + i);
      await file.write(new Uint8Array(chunk.buffer, 0, n * 4));
    }
  } finally {
    await file.close();
  }
}

if (!args.publish) {
  await writeModel(args.out);
  console.log(`wrote ${args.out}: ${buckets} weights (${mb} MiB)`);
} else {
  const { createStorage } = await import('stowage');
  const scratch = await mkdtemp(join(tmpdir(), 'stowage-model-'));
  try {
    const temp = join(scratch, basename(args.out));
    await writeModel(temp);
    const { sha256, size } = await digestOf(temp);
    const storage = await createStorage(target);
    // Content-addressed, as migrate-assets names keys: a new model never overwrites the old one.
    const key = `sha256/${sha256.slice(0, 2)}/${sha256}.f32`;
    if (!(await storage.exists(key))) {
      await storage.put(key, createReadStream(temp), {
        size,
        sha256,
        contentType: 'application/octet-stream',
      });
    }
    // The lock file names the store without credentials; the server gets them from STOWAGE_URL.
    const lock = {
      version: 1,
      storage: withoutCredentials(target),
      files: [{ path: args.out, key, size, sha256, contentType: 'application/octet-stream' }],
    };
    await writeFile('stowage.lock.json', `${JSON.stringify(lock, null, 2)}\n`);
    console.log(
      `published ${args.out} (${size} bytes, sha256 ${sha256.slice(0, 12)}…) and wrote stowage.lock.json`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** sha256 (hex) and size of a file, read once as a stream. */
async function digestOf(path) {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}
