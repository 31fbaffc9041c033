import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkPutOptions } from '../core/args.js';
import { toReadable } from '../core/body.js';
import { isAbortError, StowageError, throwIfAborted } from '../core/errors.js';
import { validateKey } from '../core/keys.js';
import type { Body, PutOptions, StagedDigest, Storage } from '../core/types.js';
import { GuardedBody } from './body-guard.js';
import { awaitCommit } from './commit-gate.js';
import { VerifyingDigest } from './verifying-digest.js';

/** What an adapter adds to the shared checks (both run before the body is touched). */
export interface WriteChecks {
  /** Validates the key and returns it normalised; default validateKey. */
  key?(key: string): string;
  /** Refuses options this backend cannot store (e.g. S3's metadata size). */
  options?(options: PutOptions): void;
}

/** One put() in progress, past the checks every adapter makes the same way. */
export interface Write {
  /** The validated key. */
  readonly key: string;
  /** The checked options (metadata keys lower-cased, sha256 normalised). */
  readonly options: PutOptions;
  /** The body's length when known without reading it (strings, buffers). */
  readonly knownSize: number | undefined;
  /** Starts the body through the digest into `sink`; rejects on the first failure of any stage. */
  pipeTo(sink: Writable): Promise<void>;
  /** Starts the body through the digest and hands its verified bytes to an adapter that pulls them. */
  chunks(): AsyncIterator<Buffer>;
  /** Size and sha256 of the whole body; valid once the body ended (it ends only verified). */
  staged(): StagedDigest;
  /**
   * The last step before the adapter publishes: waits for `beforeCommit`
   * (a refusal rejects), then checks the caller's signal once more.
   */
  publishable(): Promise<StagedDigest>;
  /** Destroys the body and the digest (writeFailure does it). */
  discard(): void;
}

/**
 * The write preamble of every adapter's put(). It guarantees, before the
 * adapter sees a byte:
 * - the key is valid (or INVALID_KEY) and the options checked (INVALID_ARGUMENT);
 * - `beforeCommit` is NOT_SUPPORTED where `capabilities.beforeCommit` is false;
 * - the body is of an accepted type (INVALID_ARGUMENT), not read when the
 *   signal already fired (ABORTED);
 * - a body of known size over `maxSize` is TOO_LARGE, one differing from
 *   `size` is CHECKSUM_MISMATCH, both before it is read.
 * And while the body streams: more than `maxSize` bytes is TOO_LARGE at once,
 * more than `size` CHECKSUM_MISMATCH at once, a short body or another sha256
 * CHECKSUM_MISMATCH instead of the body's end, so an adapter that publishes
 * only after the end never publishes a body that failed verification. A
 * failure of the body itself is ABORTED "the body stream failed" (see
 * GuardedBody). Any failure after beginWrite returns goes to writeFailure().
 */
export function beginWrite(
  storage: Pick<Storage, 'name' | 'capabilities'>,
  key: string,
  body: Body,
  opts: PutOptions | undefined,
  checks: WriteChecks = {},
): Write {
  const valid = (checks.key ?? validateKey)(key);
  const options = checkPutOptions(opts);
  checks.options?.(options);
  if (options.beforeCommit && !storage.capabilities.beforeCommit) {
    throw new StowageError(
      'NOT_SUPPORTED',
      `the ${storage.name} adapter publishes a write as it lands: put() cannot hold it for beforeCommit (see capabilities.beforeCommit)`,
      { key: valid },
    );
  }
  const { stream, size: knownSize } = toReadable(body);
  try {
    throwIfAborted(options.signal, valid);
    checkKnownSize(valid, knownSize, options);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  return new KitWrite(valid, options, stream, knownSize);
}

/**
 * The error tail of every adapter's put(): discards the body, then decides
 * once what the caller sees. In order:
 * - a StowageError passes through, given the key if it had none (but an
 *   UNAVAILABLE once the caller's signal fired is the abort's doing: ABORTED);
 * - the caller's signal, or an abort error: ABORTED "was aborted";
 * - anything else is the backend's: `backend` maps it (default INTERNAL).
 * The body's own failures arrive here already as ABORTED (GuardedBody).
 */
export function writeFailure(
  write: Write,
  err: unknown,
  backend: (err: unknown) => StowageError = unexpected(write.key),
): StowageError {
  write.discard();
  const { key } = write;
  const signal = write.options.signal;
  if (err instanceof StowageError && !(signal?.aborted && err.code === 'UNAVAILABLE'))
    return withKey(err, key);
  if (signal?.aborted || isAbortError(err))
    return new StowageError('ABORTED', `write of "${key}" was aborted`, { cause: err, key });
  return withKey(backend(err), key);
}

class KitWrite implements Write {
  private readonly body: Readable;
  private readonly digest: VerifyingDigest;

  constructor(
    readonly key: string,
    readonly options: PutOptions,
    source: Readable,
    readonly knownSize: number | undefined,
  ) {
    this.body = new GuardedBody(source, key);
    this.digest = new VerifyingDigest({
      size: options.size,
      sha256: options.sha256,
      maxSize: options.maxSize,
      label: `"${key}"`,
    });
  }

  pipeTo(sink: Writable): Promise<void> {
    return pipeline(this.body, this.digest, sink, this.signalOption());
  }

  chunks(): AsyncIterator<Buffer> {
    // Errors surface through the digest's iterator; the pipeline's own promise only mirrors them.
    pipeline(this.body, this.digest, this.signalOption()).catch(() => undefined);
    return this.digest[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  staged(): StagedDigest {
    return this.digest.digest();
  }

  async publishable(): Promise<StagedDigest> {
    const staged = this.staged();
    await awaitCommit(this.options, staged, this.key);
    throwIfAborted(this.options.signal, this.key);
    return staged;
  }

  discard(): void {
    this.digest.destroy();
    this.body.destroy();
  }

  private signalOption(): { signal?: AbortSignal } {
    return this.options.signal ? { signal: this.options.signal } : {};
  }
}

function checkKnownSize(key: string, knownSize: number | undefined, options: PutOptions): void {
  if (knownSize === undefined) return;
  if (options.maxSize !== undefined && knownSize > options.maxSize) {
    throw new StowageError(
      'TOO_LARGE',
      `"${key}" is ${knownSize} bytes, over the limit of ${options.maxSize}`,
      {
        key,
      },
    );
  }
  if (options.size !== undefined && knownSize !== options.size)
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `"${key}": expected ${options.size} bytes, got ${knownSize}`,
      {
        key,
      },
    );
}

function unexpected(key: string): (err: unknown) => StowageError {
  return (err) =>
    new StowageError('INTERNAL', `write of "${key}" failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
      key,
    });
}

function withKey(err: StowageError, key: string): StowageError {
  if (err.key !== undefined) return err;
  return new StowageError(err.code, err.message, {
    cause: err.cause,
    key,
    retryable: err.retryable,
    ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
  });
}
