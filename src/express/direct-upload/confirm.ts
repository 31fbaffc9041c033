import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isStowageError, StowageError } from '../../core/errors.js';
import { DigestStream, normaliseSha256 } from '../../core/integrity.js';
import type { ObjectInfo, Storage } from '../../core/types.js';
import { discard, isStagingKey, promote } from '../../staging/staging.js';
import { cleanOriginalName, finalKeyFor } from '../upload/naming.js';
import { requireAllowedType, SNIFF_BYTES } from '../upload/sniff.js';
import type { ResolvedDirectUploadOptions } from './options.js';

/** A browser upload that passed every check and now sits at its final key. */
export interface ConfirmedFile {
  key: string;
  size: number;
  /** Hex sha256: verified when the client sent one, else what the backend reports (may be absent). */
  sha256: string | undefined;
  contentType: string;
  originalName: string;
  url: string | undefined;
}

/**
 * Checks a browser upload and moves it to its final key, deleting it instead
 * when it does not conform. The staged object is first moved to a claim key
 * that no upload grant covers, and every check runs on that copy: a grant
 * stays valid for a while after confirm, and a second POST to it must not
 * swap in bytes that were never checked. The move also makes a repeated
 * confirm of one upload answer 404 instead of publishing it twice.
 */
export async function confirm(
  storage: Storage,
  opts: ResolvedDirectUploadOptions,
  body: Record<string, unknown>,
  req: IncomingMessage,
): Promise<ConfirmedFile> {
  const stagingKey = stagingKeyIn(body.uploadKey, opts.stagingPrefix);
  // Only keys this middleware hands out: confirm must never move an arbitrary object.
  if (!isStagingKey(stagingKey, opts.stagingPrefix)) {
    throw new StowageError('INVALID_ARGUMENT', 'uploadKey must be the key returned by the presign endpoint');
  }
  const expected = body.sha256 === undefined ? undefined : normaliseSha256(body.sha256, 'sha256');
  const originalName = cleanOriginalName(body.filename);
  const claimKey = claimKeyOf(stagingKey);
  const info = await claim(storage, stagingKey, claimKey);
  try {
    if (info.size > opts.maxFileSize) {
      throw new StowageError(
        'TOO_LARGE',
        `the upload is ${info.size} bytes, over the limit of ${opts.maxFileSize}`,
      );
    }
    const head = await readHead(storage, claimKey, info.size);
    const sniffed = await requireAllowedType(head, opts.allowedTypes, 'the upload');
    const sha256 = expected === undefined ? info.sha256 : await verifySha256(storage, claimKey, expected);
    const contentType = sniffed?.mime ?? 'application/octet-stream';
    const finalKey = await finalKeyFor(opts.key, opts.prefix, {
      field: 'file',
      originalName,
      contentType: sniffed?.mime,
      extension: sniffed?.ext,
      fields: {},
      req,
    });
    const moved = await promote(storage, claimKey, finalKey, {
      size: info.size,
      contentType,
      // The browser chose the staged type; the final object carries the sniffed one.
      rewrite: info.contentType !== contentType,
      ...(sha256 ? { sha256 } : {}),
    });
    return {
      key: finalKey,
      size: moved.size,
      sha256: sha256 ?? moved.sha256,
      contentType,
      originalName,
      url: await storage.url(finalKey).catch(() => undefined),
    };
  } catch (err) {
    // A refused upload goes; after a storage failure the claim stays, so the client's retry resumes it.
    if (isRefusal(err)) await discard(storage, claimKey);
    throw err;
  }
}

/**
 * The staging key, also from the bucket key a POST form names (Uppy reports
 * `fields.key`, which carries the storage's root prefix in front).
 */
function stagingKeyIn(value: unknown, stagingPrefix: string): unknown {
  if (typeof value !== 'string') return value;
  const at = value.lastIndexOf(`/${stagingPrefix}/`);
  if (at === -1 || isStagingKey(value, stagingPrefix)) return value;
  return (value as string).slice(at + 1);
}

/** Outside the `<prefix>/<uuid>` keys grants cover and confirm accepts; still under the sweeper's prefix. */
function claimKeyOf(stagingKey: string): string {
  return `${stagingKey}.claimed`;
}

/**
 * Moves the staged object to its claim key and returns what was claimed. A
 * claim left by an earlier confirm that failed on storage is taken up again.
 */
async function claim(storage: Storage, stagingKey: string, claimKey: string): Promise<ObjectInfo> {
  const staged = await storage.head(stagingKey).catch(notFoundAs(undefined));
  if (!staged) {
    const left = await storage.head(claimKey).catch(notFoundAs(undefined));
    if (left) return left;
    throw new StowageError(
      'NOT_FOUND',
      'nothing was uploaded under this uploadKey (or it was already confirmed)',
    );
  }
  try {
    if (storage.capabilities.copy) await storage.copy(stagingKey, claimKey);
    else await storage.put(claimKey, (await storage.get(stagingKey)).body);
  } catch (err) {
    // Another confirm of the same upload moved it first.
    if (isStowageError(err, 'NOT_FOUND')) {
      throw new StowageError('NOT_FOUND', 'this upload is already being confirmed');
    }
    throw err;
  }
  await discard(storage, stagingKey);
  return storage.head(claimKey);
}

const notFoundAs =
  <T>(value: T) =>
  (err: unknown): T => {
    if (isStowageError(err, 'NOT_FOUND')) return value;
    throw err;
  };

/** The upload itself was refused (too large, wrong type, wrong checksum, bad key): it must not stay. */
function isRefusal(err: unknown): boolean {
  return (
    isStowageError(err) &&
    ['TOO_LARGE', 'UNSUPPORTED_TYPE', 'CHECKSUM_MISMATCH', 'INVALID_ARGUMENT', 'INVALID_KEY'].includes(
      err.code,
    )
  );
}

/** The first bytes only: a ranged read where the backend has them. */
async function readHead(storage: Storage, key: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0);
  const end = Math.min(size, SNIFF_BYTES) - 1;
  const { body } = await storage.get(
    key,
    storage.capabilities.rangeReads ? { range: { start: 0, end } } : {},
  );
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length > end) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, end + 1);
}

async function verifySha256(storage: Storage, key: string, expected: string): Promise<string> {
  const { body } = await storage.get(key);
  const digest = new DigestStream();
  digest.resume();
  await pipeline(body as Readable, digest);
  const actual = digest.digest().sha256;
  if (actual !== expected) {
    throw new StowageError('CHECKSUM_MISMATCH', `the upload's sha256 is ${actual}, expected ${expected}`);
  }
  return actual;
}
