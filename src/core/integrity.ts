import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StowageError } from './errors.js';

const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface Digest {
  sha256: string;
  size: number;
}

export interface DigestStreamOptions {
  /** Error with TOO_LARGE as soon as more than this many bytes pass. */
  maxSize?: number;
  /** Used in error messages. */
  label?: string;
}

/**
 * A pass-through that counts bytes and hashes them as they stream, so
 * integrity costs no second read. `digest()` is valid once the stream ends.
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private result: Digest | undefined;
  private readonly maxSize: number | undefined;
  private readonly label: string;

  constructor(options: DigestStreamOptions = {}) {
    super();
    this.maxSize = options.maxSize;
    this.label = options.label ?? 'body';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.maxSize !== undefined && this.bytes > this.maxSize) {
      callback(new StowageError('TOO_LARGE', `${this.label} exceeds the limit of ${this.maxSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = { sha256: this.hash.digest('hex'), size: this.bytes };
    callback();
  }

  /** Bytes seen so far (valid at any time). */
  get size(): number {
    return this.bytes;
  }

  digest(): Digest {
    if (!this.result) throw new StowageError('INTERNAL', 'digest() called before the stream finished');
    return this.result;
  }
}

/** Checks that a string is a hex sha256; returns it lower-cased. */
export function normaliseSha256(value: unknown, what = 'sha256'): string {
  if (typeof value !== 'string' || !SHA256_HEX.test(value.toLowerCase())) {
    throw new StowageError('INVALID_ARGUMENT', `${what} must be 64 hex characters (a sha256 digest)`);
  }
  return value.toLowerCase();
}

/** Throws CHECKSUM_MISMATCH when the digest differs from what was expected. */
export function verifyDigest(
  actual: Digest,
  expected: { sha256?: string; size?: number },
  label = 'object',
): void {
  if (expected.size !== undefined && actual.size !== expected.size) {
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `${label}: expected ${expected.size} bytes, got ${actual.size}`,
    );
  }
  if (expected.sha256 !== undefined && actual.sha256 !== expected.sha256.toLowerCase()) {
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `${label}: sha256 mismatch, expected ${expected.sha256.toLowerCase()}, got ${actual.sha256}`,
    );
  }
}

/** sha256 and size of a file, streamed. */
export async function digestFile(path: string): Promise<Digest> {
  const digest = new DigestStream();
  digest.resume();
  await pipeline(createReadStream(path), digest);
  return digest.digest();
}

/** sha256 of an in-memory value. */
export function sha256Of(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
