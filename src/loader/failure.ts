import { isAbortError, isStowageError, StowageError } from '../core/errors.js';
import { isRetryable } from './retry.js';

/**
 * Every failure that leaves the loader is a StowageError. Sources classify
 * what they can where it happens; this catches the rest (an SDK's raw
 * socket error after the retries ran out, a file system error) at the
 * loader's edge, keeping the original as `cause` (redacted by StowageError).
 */
export function loaderError(err: unknown, name: string): StowageError {
  if (isStowageError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  const detail = typeof code === 'string' ? `${message} (${code})` : message;
  if (isAbortError(err)) return new StowageError('ABORTED', `${name}: aborted`, { cause: err });
  if (isRetryable(err)) {
    return new StowageError('UNAVAILABLE', `${name}: the connection failed: ${detail}`, {
      cause: err,
      retryable: true,
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StowageError('ACCESS_DENIED', `${name}: ${detail}`, { cause: err });
  }
  return new StowageError('INTERNAL', `${name}: ${detail}`, { cause: err });
}
