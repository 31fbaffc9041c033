import type { StowageError } from '../../src/core/errors.js';
import { CallTracker, type CloudinaryClient, type CloudinaryResource, sdk } from './client.js';
import { mapSdkError } from './errors.js';

/**
 * A chunked upload (X-Unique-Upload-Id + Content-Range) that sends its last
 * chunk only when `finish()` is called. Until then Cloudinary holds an
 * unfinished upload and nothing at the public_id changes, so a caller can
 * verify the body (size, sha256) first and `abort()` on a mismatch.
 */
export class ChunkedUpload {
  private readonly tracker: CallTracker;
  private readonly chunker: NodeJS.WritableStream & { destroy(): void };
  private readonly result: Promise<CloudinaryResource>;
  private failure: unknown;

  constructor(
    client: CloudinaryClient,
    params: Record<string, unknown>,
    private readonly key: string,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.tracker = new CallTracker(client.secure);
    // An abort cuts the chunk in flight instead of waiting for it.
    signal?.addEventListener('abort', this.onAbort, { once: true });
    let settle!: { resolve(r: CloudinaryResource): void; reject(e: unknown): void };
    this.result = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.result.catch(() => undefined);
    this.chunker = sdk.uploader.upload_chunked_stream(
      client.options(this.tracker, { ...params, chunk_size: client.settings.chunkSize }),
      (err, res) => {
        if (err || !res) {
          this.failure = err ?? new Error('empty upload response');
          settle.reject(this.failure);
        } else settle.resolve(res as unknown as CloudinaryResource);
      },
    ) as unknown as NodeJS.WritableStream & { destroy(): void };
  }

  /** Writes bytes; resolves once the SDK took them (a full chunk is sent before it returns). */
  write(data: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.mapped());
    return new Promise((resolve, reject) => {
      // The SDK never calls back after a failed chunk: settle on the upload's failure too.
      this.result.catch(() => reject(this.mapped()));
      this.chunker.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends the last chunk and waits for Cloudinary's answer. */
  async finish(): Promise<CloudinaryResource> {
    this.chunker.end();
    try {
      return await this.result;
    } catch {
      throw this.mapped();
    } finally {
      this.signal?.removeEventListener('abort', this.onAbort);
      this.tracker.close();
    }
  }

  private readonly onAbort = () => this.tracker.abort();

  /** Stops the upload before its last chunk: nothing is stored at the public_id. */
  abort(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.tracker.abort();
    this.chunker.destroy();
    this.tracker.close();
  }

  private mapped(): StowageError {
    return mapSdkError(this.failure, 'put', this.key, this.tracker.headers);
  }
}

/** Reads up to `limit` + 1 bytes, to decide between one request and a chunked upload. */
export async function readHead(
  iterator: AsyncIterator<Buffer>,
  limit: number,
): Promise<{ chunks: Buffer[]; bytes: number; ended: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  while (bytes <= limit) {
    const next = await iterator.next();
    if (next.done) return { chunks, bytes, ended: true };
    chunks.push(next.value);
    bytes += next.value.length;
  }
  return { chunks, bytes, ended: false };
}
