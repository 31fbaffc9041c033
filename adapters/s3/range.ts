import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { StowageError } from '../../src/core/errors.js';

/** "bytes 100-1099/10000" → { start, end, size }; undefined when absent or malformed. */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; size: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) };
}

/**
 * Some servers answer a Range request with more than asked for (a 200 with
 * the whole body is legal HTTP; s3rver reads "bytes=0-0" as "to the end").
 * Trims the body to exactly the range wanted, or fails if it cannot.
 */
export function trimToRange(
  body: Readable,
  got: { start: number; end: number },
  want: { start: number; end: number },
  key: string,
): Readable {
  if (got.start === want.start && got.end === want.end) return body;
  if (got.start > want.start || got.end < want.end) {
    body.destroy();
    throw new StowageError(
      'INTERNAL',
      `the store answered bytes ${got.start}-${got.end} of "${key}" for a request of ${want.start}-${want.end}`,
      { key },
    );
  }
  let skip = want.start - got.start;
  let left = want.end - want.start + 1;
  const trim = new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      let piece = chunk;
      if (skip > 0) {
        const n = Math.min(skip, piece.length);
        piece = piece.subarray(n);
        skip -= n;
      }
      if (left > 0 && piece.length > 0) {
        const out = piece.subarray(0, left);
        left -= out.length;
        this.push(out);
      }
      if (left === 0) {
        this.push(null);
        body.unpipe(this);
        body.destroy();
      }
      callback();
    },
  });
  body.on('error', (err) => {
    if (left > 0) trim.destroy(err);
  });
  return body.pipe(trim);
}
