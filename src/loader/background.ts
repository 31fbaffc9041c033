import { invalidArg } from '../core/args.js';
import type { ErrorCode, StowageError } from '../core/errors.js';
import { log } from '../util/log.js';
import { type LoadArtifactsOptions, type RestoredFile, runArtifacts } from './load-artifacts.js';
import { timerMs } from './options.js';
import type { FileProgress, FileStatus } from './progress.js';
import { type ReadinessMiddleware, type ReadinessOptions, readiness } from './readiness.js';
import { backoffDelay, sleep } from './retry.js';

/** 'retrying': a run failed with a retryable error and the next one is scheduled (nextRetryAt). */
export type ArtifactsState = 'loading' | 'retrying' | 'ready' | 'failed';

export interface ArtifactsOptions extends LoadArtifactsOptions {
  /**
   * What a final failure does (one not retryable, or the last of `attempts`):
   * 'stay' (default) keeps the process up, answering 503 with the error in
   * status(); 'exit' logs one line and exits with code 1, so the platform
   * restarts the process. Retryable failures are retried first either way.
   */
  onFailure?: 'stay' | 'exit';
  /** Runs of the whole load before a retryable failure is final (default Infinity: until it succeeds). */
  attempts?: number;
  /** Cap on the delay between runs in ms (default 60000): doubling from 1 s, fully jittered. */
  maxRetryDelay?: number;
}

/** The latest failure, kept while later attempts run. */
export interface ArtifactsError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** What status() reports: the whole and every file. */
export interface ArtifactsStatus {
  state: ArtifactsState;
  /** The run of the load this is, from 1. */
  attempt: number;
  /** ISO time of the next run, while state is 'retrying'. */
  nextRetryAt?: string;
  lastError?: ArtifactsError;
  /** Bytes present / expected over all files. */
  bytes: number;
  total: number;
  /** Bytes per second, summed over files downloading now. */
  rate: number;
  /** Seconds left at the current rate, when it can be estimated. */
  eta: number | undefined;
  files: FileStatus[];
  /** The final failure's message, when state is 'failed'. */
  error?: string;
}

export interface ArtifactsHandle {
  /**
   * Resolves when every file is verified and in place (after retries, if
   * any); rejects with the final failure. With onFailure 'exit' the process
   * exits instead of rejecting.
   */
  readonly ready: Promise<RestoredFile[]>;
  isReady(): boolean;
  status(): ArtifactsStatus;
  /**
   * Express-compatible middleware: holds requests while loading (default up
   * to 25 s), next() once ready, 503 + Retry-After + JSON status past the
   * bound or after a final failure; `healthPath` answers 200 only when ready.
   */
  middleware(options?: ReadinessOptions): ReadinessMiddleware;
}

/**
 * Starts loadArtifacts() at once and returns without waiting, so the web
 * process binds $PORT in time; gate routes with handle.middleware().
 * Retryable failures (an unreachable or throttling store, dropped
 * connections) run the load again after a jittered, growing delay; the
 * others (CHECKSUM_MISMATCH, ACCESS_DENIED, NOT_FOUND…) need a fix, not time,
 * and are final at once.
 */
export function artifacts(options: ArtifactsOptions = {}): ArtifactsHandle {
  const policy = failurePolicy(options);
  let trackers: FileProgress[] = [];
  let state: ArtifactsState = 'loading';
  let attempt = 1;
  let nextRetryAt: number | undefined;
  let lastError: StowageError | undefined;

  const runs = async (): Promise<RestoredFile[]> => {
    for (;;) {
      try {
        const files = await runArtifacts(options, (t) => {
          trackers = t;
        });
        state = 'ready';
        return files;
      } catch (err) {
        lastError = err as StowageError; // runArtifacts fails with nothing else
      }
      if (!lastError.retryable || attempt >= policy.attempts) break;
      const delay = backoffDelay(attempt - 1, 1_000, policy.maxRetryDelay);
      state = 'retrying';
      nextRetryAt = Date.now() + delay;
      log.warn(
        `artifacts: attempt ${attempt} failed: ${lastError.message}; retrying in ${(delay / 1000).toFixed(1)} s`,
      );
      try {
        await sleep(delay, options.signal);
      } catch (err) {
        lastError = err as StowageError;
        break;
      }
      state = 'loading';
      nextRetryAt = undefined;
      attempt++;
    }
    state = 'failed';
    nextRetryAt = undefined;
    const after = attempt > 1 ? ` after ${attempt} attempts` : '';
    if (policy.onFailure === 'exit') {
      log.warn(
        `artifacts failed${after} (${lastError.code}): ${lastError.message}; exiting with code 1 (onFailure: 'exit') so the platform restarts the process`,
      );
      process.exit(1);
    }
    log.warn(`artifacts failed${after} (${lastError.code}): ${lastError.message}`);
    throw lastError;
  };
  const ready = runs();
  // The failure is logged and reported by status(); awaiting .ready is optional.
  ready.catch(() => undefined);
  const handle: ArtifactsHandle = {
    ready,
    isReady: () => state === 'ready',
    status: () => summarise(state, attempt, nextRetryAt, lastError, trackers),
    middleware: (opts) => readiness(handle, opts),
  };
  return handle;
}

interface FailurePolicy {
  onFailure: 'stay' | 'exit';
  attempts: number;
  maxRetryDelay: number;
}

/** Checked at once: a typo here should stop the boot, not surface as a failed load later. */
function failurePolicy(options: ArtifactsOptions): FailurePolicy {
  const { onFailure = 'stay', attempts = Number.POSITIVE_INFINITY, maxRetryDelay } = options ?? {};
  if (onFailure !== 'stay' && onFailure !== 'exit') {
    throw invalidArg(`options.onFailure must be 'stay' or 'exit', got ${JSON.stringify(onFailure)}`);
  }
  if (
    typeof attempts !== 'number' ||
    !(attempts === Number.POSITIVE_INFINITY || Number.isSafeInteger(attempts)) ||
    attempts < 1
  ) {
    throw invalidArg(
      `options.attempts must be a whole number of at least 1 (or Infinity), got ${String(attempts)}`,
    );
  }
  return {
    onFailure,
    attempts,
    maxRetryDelay: timerMs(maxRetryDelay, 'options.maxRetryDelay', 60_000, 0),
  };
}

function summarise(
  state: ArtifactsState,
  attempt: number,
  nextRetryAt: number | undefined,
  lastError: StowageError | undefined,
  trackers: FileProgress[],
): ArtifactsStatus {
  const files = trackers.map((t) => t.status());
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const total = files.reduce((s, f) => s + (f.total ?? 0), 0);
  const rate = files.reduce((s, f) => s + (f.state === 'downloading' ? f.rate : 0), 0);
  const out: Pick<ArtifactsStatus, 'state' | 'attempt' | 'nextRetryAt' | 'lastError' | 'error'> = {
    state,
    attempt,
  };
  if (nextRetryAt !== undefined) out.nextRetryAt = new Date(nextRetryAt).toISOString();
  if (lastError) {
    const { code, message, retryable } = lastError;
    out.lastError = { code, message, retryable };
    if (state === 'failed') out.error = message;
  }
  return {
    ...out,
    bytes,
    total,
    rate,
    eta: state === 'ready' ? 0 : rate > 0 ? Math.round(((total - bytes) / rate) * 10) / 10 : undefined,
    files,
  };
}
