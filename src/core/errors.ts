import { redact } from '../util/redact.js';

/** Stable error codes. Add, never rename: users switch on them. */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'INVALID_RANGE'
  | 'CHECKSUM_MISMATCH'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_TYPE'
  | 'ACCESS_DENIED'
  | 'UNAVAILABLE'
  | 'DISK_FULL'
  | 'ABORTED'
  | 'NOT_SUPPORTED'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_KEY: 400,
  INVALID_ARGUMENT: 400,
  INVALID_RANGE: 416,
  CHECKSUM_MISMATCH: 422,
  TOO_LARGE: 413,
  UNSUPPORTED_TYPE: 415,
  ACCESS_DENIED: 403,
  UNAVAILABLE: 503,
  DISK_FULL: 507,
  ABORTED: 499,
  NOT_SUPPORTED: 501,
  INTERNAL: 500,
};

/** Every code, in the order of the README's table. */
export const ERROR_CODES = Object.keys(STATUS) as readonly ErrorCode[];

export interface StowageErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  key?: string;
  /** Seconds a client should wait before retrying (UNAVAILABLE). */
  retryAfter?: number;
}

/**
 * The one error class of stowage. `code` is stable, `status` is what HTTP
 * middleware answers (always the code's, as the README's table lists it),
 * `retryable` says whether trying again may succeed.
 * Messages are redacted of known secrets at construction.
 */
export class StowageError extends Error {
  override readonly name = 'StowageError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly key: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: StowageErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: scrubCause(options.cause) });
    this.code = code;
    this.status = STATUS[code];
    this.retryable = options.retryable ?? code === 'UNAVAILABLE';
    this.key = options.key;
    this.retryAfter = options.retryAfter;
    if (this.stack) this.stack = redact(this.stack);
  }

  toJSON(): { code: ErrorCode; message: string; status: number; retryable: boolean } {
    return { code: this.code, message: this.message, status: this.status, retryable: this.retryable };
  }
}

export function isStowageError(err: unknown, code?: ErrorCode): err is StowageError {
  return err instanceof StowageError && (code === undefined || err.code === code);
}

/** Default HTTP status of a code, for middleware that builds its own errors. */
export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/**
 * SDK errors sometimes echo request details (URLs with signatures, headers).
 * Scrub what a cause carries so a logged `err.cause` leaks nothing either.
 */
function scrubCause(cause: unknown): unknown {
  if (cause instanceof Error) {
    try {
      cause.message = redact(cause.message);
      if (cause.stack) cause.stack = redact(cause.stack);
    } catch {
      // Frozen or exotic errors: leave them; our own message is clean.
    }
  }
  return cause;
}

/** True when `err` is an abort (AbortSignal fired, or a stream was destroyed by one). */
export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR')
  );
}

/** Throws ABORTED if the signal has fired; call at the start of every operation. */
export function throwIfAborted(signal: AbortSignal | undefined, key?: string): void {
  if (signal?.aborted) throw abortedBy(signal, key);
}

/**
 * Waits for `work`, or throws ABORTED as soon as `signal` fires. The work
 * itself is not cancelled (its late failure is swallowed here): for steps
 * that must not be cut off midway but must not hold the caller either.
 */
export async function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  key?: string,
): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined);
  throwIfAborted(signal, key);
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedBy(signal, key));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function abortedBy(signal: AbortSignal, key: string | undefined): StowageError {
  return new StowageError('ABORTED', `operation aborted${key ? ` for key "${key}"` : ''}`, {
    cause: signal.reason,
    key,
  });
}

/** Resolves true when `lookup` succeeds, false on NOT_FOUND; rethrows anything else. */
export async function foundOrNot(lookup: Promise<unknown>): Promise<boolean> {
  try {
    await lookup;
    return true;
  } catch (err) {
    if (isStowageError(err, 'NOT_FOUND')) return false;
    throw err;
  }
}
