import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StowageError } from '../../core/errors.js';
import type { Digest } from '../../core/integrity.js';
import { ObjectChangedError, type Remote, type RemoteMeta } from '../../loader/remote.js';
import { backoffDelay, isRetryable, sleep } from '../../loader/retry.js';

export interface RemoteStreamOptions {
  /** Bytes per range request. */
  partSize: number;
  /** Attempts per range after the first, on retryable errors and dropped connections. */
  retries: number;
  signal?: AbortSignal;
  /** Called with each chunk's length as it passes. */
  onBytes?: (bytes: number) => void;
}

/**
 * The object's bytes, in order, as one stream, without touching the disk:
 * read in ranges pinned to `meta` where the source serves them, so a
 * dropped connection resumes at the next byte instead of byte 0. A source
 * that replaces the object meanwhile fails the stream (ObjectChangedError).
 */
export function remoteStream(remote: Remote, meta: RemoteMeta, options: RemoteStreamOptions): Readable {
  return Readable.from(chunks(remote, meta, options), { objectMode: false });
}

/** Reads the whole object and returns its sha256 and size (nothing is stored). */
export async function remoteDigest(
  remote: Remote,
  meta: RemoteMeta,
  options: RemoteStreamOptions,
): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of remoteStream(remote, meta, options) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function* chunks(
  remote: Remote,
  meta: RemoteMeta,
  options: RemoteStreamOptions,
): AsyncGenerator<Buffer> {
  const { signal } = options;
  if (meta.size === 0) return;
  if (!meta.acceptsRanges) {
    // One response from byte 0: nothing to resume from; the caller's attempt fails as a whole.
    const { body } = await remote.open(undefined, meta, signal);
    let got = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      got += chunk.length;
      options.onBytes?.(chunk.length);
      yield chunk;
    }
    if (got !== meta.size) throw short(remote, got, meta.size);
    return;
  }
  let pos = 0;
  let attempt = 0;
  while (pos < meta.size) {
    const end = Math.min(meta.size, pos + options.partSize) - 1;
    const before = pos;
    try {
      const { body } = await remote.open({ start: pos, end }, meta, signal);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (pos + chunk.length > end + 1) {
          body.destroy();
          throw new StowageError('UNAVAILABLE', `${remote.label}: the server sent more bytes than asked`, {
            retryable: true,
          });
        }
        pos += chunk.length;
        options.onBytes?.(chunk.length);
        yield chunk;
      }
      if (pos <= end) throw short(remote, pos, meta.size);
      attempt = 0;
    } catch (err) {
      if (signal?.aborted) {
        throw new StowageError('ABORTED', `${remote.label}: copy aborted`, { cause: signal.reason });
      }
      if (err instanceof ObjectChangedError || !isRetryable(err)) throw err;
      if (pos > before) attempt = 0; // progress was made: a flaky link, not a dead one
      if (attempt++ >= options.retries) throw err;
      await sleep(backoffDelay(attempt), signal);
    }
  }
}

function short(remote: Remote, got: number, size: number): StowageError {
  return new StowageError('UNAVAILABLE', `${remote.label}: connection closed at byte ${got} of ${size}`, {
    retryable: true,
  });
}
