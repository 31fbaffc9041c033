/**
 * A hashed bag-of-words sentiment model: logistic regression over word and
 * word-pair features hashed into N buckets (the "hashing trick"). The file is
 * a 16-byte header ("STWM", version, buckets, bias) then N float32 weights.
 *
 * Predictions read only the weights they need, with positional reads: a
 * 1 GiB model answers on a 512 MB dyno because it is never held in memory.
 */
import { open } from 'node:fs/promises';

export const MAGIC = 'STWM';
export const HEADER_BYTES = 16;

/** The features of a text: lower-case words and adjacent word pairs. */
export function features(text) {
  const words =
    String(text)
      .toLowerCase()
      .match(/[a-z']+/g) ?? [];
  const out = [...words];
  for (let i = 1; i < words.length; i++) out.push(`${words[i - 1]} ${words[i]}`);
  return out;
}

/** FNV-1a, 32 bits: a stable, fast string hash. */
export function bucketOf(feature, buckets) {
  let h = 0x811c9dc5;
  for (let i = 0; i < feature.length; i++) {
    h ^= feature.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % buckets;
}

export function header(buckets, bias) {
  const head = Buffer.alloc(HEADER_BYTES);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(buckets, 8);
  head.writeFloatLE(bias, 12);
  return head;
}

/** Opens a model file; throws when it is not one. */
export async function openModel(path) {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    await file.read(head, 0, HEADER_BYTES, 0);
    if (head.toString('latin1', 0, 4) !== MAGIC || head.readUInt32LE(4) !== 1) {
      throw new Error(`${path} is not a version 1 STWM model`);
    }
    const buckets = head.readUInt32LE(8);
    const bias = head.readFloatLE(12);
    const { size } = await file.stat();
    if (size !== HEADER_BYTES + buckets * 4) throw new Error(`${path} is truncated`);
    return {
      buckets,
      bytes: size,
      /** Probability that the text is positive, and the label. */
      async predict(text) {
        const weight = Buffer.alloc(4);
        let z = bias;
        for (const f of features(text)) {
          await file.read(weight, 0, 4, HEADER_BYTES + bucketOf(f, buckets) * 4);
          z += weight.readFloatLE(0);
        }
        const positive = 1 / (1 + Math.exp(-z));
        return {
          label: positive >= 0.5 ? 'positive' : 'negative',
          positive: Math.round(positive * 1e4) / 1e4,
        };
      },
      close: () => file.close(),
    };
  } catch (err) {
    await file.close();
    throw err;
  }
}
