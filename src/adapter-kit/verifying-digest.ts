import type { TransformCallback } from 'node:stream';
import { StowageError } from '../core/errors.js';
import { DigestStream, verifyDigest } from '../core/integrity.js';

export interface Expectations {
  size?: number;
  sha256?: string;
  maxSize?: number;
  label: string;
}

/**
 * DigestStream that also checks what the caller promised: more bytes than
 * the expected size fail at once, a short body or a sha256 mismatch fails at
 * the end — as a stream error instead of 'end', so whoever consumes it (our
 * single PUT, or the multipart part reader) never sees a complete body and never
 * completes an upload.
 */
export class VerifyingDigest extends DigestStream {
  private readonly expected: Expectations;

  constructor(expected: Expectations) {
    super({ maxSize: expected.maxSize, label: expected.label });
    this.expected = expected;
  }

  override _transform(chunk: Buffer, enc: BufferEncoding, callback: TransformCallback): void {
    const size = this.expected.size;
    if (size !== undefined && this.size + chunk.length > size) {
      callback(
        new StowageError(
          'CHECKSUM_MISMATCH',
          `${this.expected.label}: body is longer than the ${size} bytes promised`,
        ),
      );
      return;
    }
    super._transform(chunk, enc, callback);
  }

  override _flush(callback: TransformCallback): void {
    super._flush((err) => {
      if (err) return callback(err);
      try {
        verifyDigest(this.digest(), this.expected, this.expected.label);
        callback();
      } catch (mismatch) {
        callback(mismatch as Error);
      }
    });
  }
}
