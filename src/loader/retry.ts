import { isStowageError, StowageError } from '../core/errors.js';

/** Full-jitter exponential backoff: spreads retries of many dynos so they do not stampede. */
export function backoffDelay(attempt: number, baseMs = 200, maxMs = 5_000): number {
  return Math.round(Math.random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

/** The longest Retry-After honoured, in ms: a longer one is a retry later (artifacts() runs the load again). */
const MAX_RETRY_AFTER_MS = 60_000;

/** The wait before attempt `attempt`: the server's Retry-After when it sent one, else jittered backoff. */
export function retryDelay(err: unknown, attempt: number): number {
  const after = err instanceof StowageError ? err.retryAfter : undefined;
  if (after !== undefined && after > 0) return Math.min(after * 1000, MAX_RETRY_AFTER_MS);
  return backoffDelay(attempt);
}

/** Resolves after `ms`, or rejects with ABORTED as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new StowageError('ABORTED', 'operation aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StowageError('ABORTED', 'operation aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** True for errors worth another attempt: retryable StowageErrors and dropped connections. */
export function isRetryable(err: unknown): boolean {
  if (isStowageError(err)) return err.retryable;
  const code = (err as { code?: string } | undefined)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'EAI_AGAIN' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE'
  );
}

/** Runs `fn` again on retryable errors, with jittered backoff, up to `retries` more times. */
export async function withRetries<T>(
  fn: () => Promise<T>,
  retries: number,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted || !isRetryable(err) || attempt >= retries) throw err;
      await sleep(retryDelay(err, attempt + 1), signal);
    }
  }
}
