import { finished, Readable } from 'node:stream';
import { isAbortError, StowageError } from '../core/errors.js';

/**
 * Reads a put()'s body and names its failures at the source: whatever error
 * the body itself raises (a dropped upload's ECONNRESET, a generator that
 * throws, a stream closed before its end) becomes ABORTED "the body stream
 * failed", while errors of the stages after it pass through untouched. So no
 * adapter has to guess from an error's shape whether the body, the disk or
 * the store failed.
 */
export class GuardedBody extends Readable {
  constructor(
    private readonly source: Readable,
    key: string,
  ) {
    super();
    // The body can fail while the adapter still prepares (opens a directory, a multipart
    // upload): the write's pipeline reports the error once it starts, nothing may crash before.
    this.on('error', () => undefined);
    source.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) source.pause();
    });
    source.once('end', () => this.push(null));
    finished(source, { writable: false }, (err) => {
      if (err) this.destroy(bodyFailed(err, key));
    });
    source.pause();
  }

  override _read(): void {
    this.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.source.destroy();
    callback(err);
  }
}

function bodyFailed(err: unknown, key: string): StowageError {
  if (err instanceof StowageError) return err; // The body's own complaint (toReadable's chunk check).
  if (isAbortError(err))
    return new StowageError('ABORTED', `write of "${key}" was aborted`, { cause: err, key });
  return new StowageError(
    'ABORTED',
    `write of "${key}" aborted: the body stream failed (${(err as Error)?.message ?? String(err)})`,
    { cause: err, key },
  );
}
