import { Readable } from 'node:stream';
import { StowageError } from './errors.js';
import type { Body } from './types.js';

/** Turns any accepted body into a Node Readable of Buffers; known length when it is cheap to know. */
export function toReadable(body: Body, what = 'body'): { stream: Readable; size: number | undefined } {
  if (typeof body === 'string') {
    const buf = Buffer.from(body, 'utf8');
    return { stream: Readable.from([buf], { objectMode: false }), size: buf.length };
  }
  if (body instanceof Uint8Array) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    // An empty array would make Readable.from emit nothing at all, which is what we want (0 bytes).
    return { stream: Readable.from(buf.length ? [buf] : [], { objectMode: false }), size: buf.length };
  }
  if (body instanceof Readable) return { stream: body, size: undefined };
  if (isWebStream(body)) return { stream: Readable.fromWeb(body as never), size: undefined };
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return { stream: Readable.from(asBuffers(body as AsyncIterable<Uint8Array | string>)), size: undefined };
  }
  throw new StowageError(
    'INVALID_ARGUMENT',
    `${what} must be a Readable, Uint8Array/Buffer, string or async iterable of bytes, got ${describe(body)}`,
  );
}

async function* asBuffers(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else
      throw new StowageError('INVALID_ARGUMENT', `body yielded a ${describe(chunk)}; yield bytes or strings`);
  }
}

function isWebStream(value: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}
