import type { Readable } from 'node:stream';
import { StowageError } from '../../core/errors.js';

export interface Peeked {
  /** At least `bytes` bytes, or the whole stream when it is shorter. */
  head: Buffer;
  /** True when the stream ended within the peek. */
  ended: boolean;
}

/**
 * Reads the first `bytes` of a stream and leaves it paused, so the rest can
 * be piped on afterwards. Only the head is held in memory, never the file.
 */
export function peek(stream: Readable, bytes: number, signal: AbortSignal): Promise<Peeked> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) {
        stream.pause();
        cleanup();
        resolve({ head: Buffer.concat(chunks), ended: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onAbort = (): void => {
      cleanup();
      reject(new StowageError('ABORTED', 'upload aborted', { cause: signal.reason }));
    };
    if (signal.aborted) return onAbort();
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
