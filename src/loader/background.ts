import { log } from '../log.js';
import { type LoadArtifactsOptions, type RestoredFile, runArtifacts } from './load-artifacts.js';
import type { FileProgress, FileStatus } from './progress.js';
import { type ReadinessMiddleware, type ReadinessOptions, readiness } from './readiness.js';

export type ArtifactsState = 'loading' | 'ready' | 'failed';

/** What status() reports: the whole and every file. */
export interface ArtifactsStatus {
  state: ArtifactsState;
  /** Bytes present / expected over all files. */
  bytes: number;
  total: number;
  /** Bytes per second, summed over files downloading now. */
  rate: number;
  /** Seconds left at the current rate, when it can be estimated. */
  eta: number | undefined;
  files: FileStatus[];
  error?: string;
}

export interface ArtifactsHandle {
  /** Resolves when every file is verified and in place; rejects with the first failure. */
  readonly ready: Promise<RestoredFile[]>;
  isReady(): boolean;
  status(): ArtifactsStatus;
  /** Express-compatible middleware: 503 + Retry-After + JSON status until ready, then next(). */
  middleware(options?: ReadinessOptions): ReadinessMiddleware;
}

/**
 * Starts loadArtifacts() at once and returns without waiting, so the web
 * process binds $PORT in time; gate routes with handle.middleware().
 */
export function artifacts(options: LoadArtifactsOptions = {}): ArtifactsHandle {
  let trackers: FileProgress[] = [];
  let state: ArtifactsState = 'loading';
  let error: string | undefined;
  const ready = runArtifacts(options, (t) => {
    trackers = t;
  }).then(
    (files) => {
      state = 'ready';
      return files;
    },
    (err: unknown) => {
      state = 'failed';
      error = (err as Error).message;
      log.warn(`artifacts failed: ${error}`);
      throw err;
    },
  );
  // The failure is logged and reported by status(); awaiting .ready is optional.
  ready.catch(() => undefined);
  const handle: ArtifactsHandle = {
    ready,
    isReady: () => state === 'ready',
    status: () => summarise(state, trackers, error),
    middleware: (opts) => readiness(handle, opts),
  };
  return handle;
}

function summarise(
  state: ArtifactsState,
  trackers: FileProgress[],
  error: string | undefined,
): ArtifactsStatus {
  const files = trackers.map((t) => t.status());
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const total = files.reduce((s, f) => s + (f.total ?? 0), 0);
  const rate = files.reduce((s, f) => s + (f.state === 'downloading' ? f.rate : 0), 0);
  const out: ArtifactsStatus = {
    state,
    bytes,
    total,
    rate,
    eta: state === 'ready' ? 0 : rate > 0 ? Math.round(((total - bytes) / rate) * 10) / 10 : undefined,
    files,
  };
  if (error) out.error = error;
  return out;
}
