import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { type ErrorCode, StowageError } from '../core/errors.js';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function collect(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** An async generator of `data` in `chunkSize` slices: a body of unknown length. */
export async function* unknownLength(data: Buffer, chunkSize = 65_536): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += chunkSize) {
    yield data.subarray(i, i + chunkSize);
    if (i % (chunkSize * 16) === 0) await new Promise((r) => setImmediate(r));
  }
}

/** A stream that sends `bytesBeforeError` bytes and then fails (with `error`, by default a plain Error). */
export function failingStream(
  bytesBeforeError: number,
  chunkSize = 65_536,
  error: () => Error = () => new Error('simulated source failure'),
): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytesBeforeError) {
        setImmediate(() => this.destroy(error()));
        return;
      }
      const n = Math.min(chunkSize, bytesBeforeError - sent);
      sent += n;
      setImmediate(() => this.push(Buffer.alloc(n, 0x61)));
    },
  });
}

/** A stream that sends about `bytes` bytes and is then destroyed without an error: it closes before its end. */
export function closingStream(bytes: number, chunkSize = 50_000): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void setImmediate(() => this.destroy());
      sent += chunkSize;
      setImmediate(() => this.push(Buffer.alloc(chunkSize, 0x63)));
    },
  });
}

/** A stream that never ends on its own: it sends `bytes` and then waits. */
export function stallingStream(bytes: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(bytes, 0x62));
      }
    },
  });
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

/** Awaits a rejection and checks it is a StowageError with the given code. */
export async function expectCode(
  promise: Promise<unknown> | (() => Promise<unknown>),
  code: ErrorCode,
): Promise<StowageError> {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    error = err;
  }
  expect(error, `expected a StowageError ${code}`).toBeInstanceOf(StowageError);
  expect((error as StowageError).code).toBe(code);
  return error as StowageError;
}
