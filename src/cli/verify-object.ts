import { pipeline } from 'node:stream/promises';
import { isStowageError } from '../core/errors.js';
import { DigestStream } from '../core/integrity.js';
import type { Storage } from '../core/types.js';

export type ObjectCheck =
  | { ok: true; method: 'head' | 'read-back' }
  | { ok: false; problem: 'missing' | 'size' | 'sha256'; detail: string };

/**
 * Is the object at `key` exactly these bytes? Size from head; sha256 from
 * head when the backend records it, else (or when `deep`) by reading the object back.
 */
export async function checkStoredObject(
  storage: Storage,
  key: string,
  expected: { size: number; sha256: string },
  options: { deep?: boolean } = {},
): Promise<ObjectCheck> {
  let info: Awaited<ReturnType<Storage['head']>>;
  try {
    info = await storage.head(key);
  } catch (err) {
    if (isStowageError(err, 'NOT_FOUND')) return { ok: false, problem: 'missing', detail: 'not in storage' };
    throw err;
  }
  if (info.size !== expected.size) {
    return { ok: false, problem: 'size', detail: `stored ${info.size} bytes, expected ${expected.size}` };
  }
  if (info.sha256 && !options.deep) {
    return info.sha256.toLowerCase() === expected.sha256
      ? { ok: true, method: 'head' }
      : { ok: false, problem: 'sha256', detail: `stored sha256 ${info.sha256}, expected ${expected.sha256}` };
  }
  const actual = await readBackDigest(storage, key);
  if (actual.size !== expected.size) {
    return { ok: false, problem: 'size', detail: `read ${actual.size} bytes, expected ${expected.size}` };
  }
  return actual.sha256 === expected.sha256
    ? { ok: true, method: 'read-back' }
    : { ok: false, problem: 'sha256', detail: `read sha256 ${actual.sha256}, expected ${expected.sha256}` };
}

async function readBackDigest(storage: Storage, key: string): Promise<{ sha256: string; size: number }> {
  const { body } = await storage.get(key);
  const digest = new DigestStream({ label: key });
  digest.resume();
  await pipeline(body, digest);
  return digest.digest();
}
