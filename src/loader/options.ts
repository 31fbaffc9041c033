import { checkInteger } from '../adapter-kit/integer-option.js';
import { checkOptionsObject, invalidArg } from '../core/args.js';
import { normaliseSha256 } from '../core/integrity.js';
import { defaultCacheDir } from './cache.js';
import type { FileStatus } from './progress.js';

/** Options shared by loadModel(), loadArtifacts() and artifacts(). */
export interface LoaderOptions {
  /** Cache directory (default STOWAGE_CACHE_DIR, else node_modules/.cache/stowage under the cwd). */
  cacheDir?: string;
  signal?: AbortSignal;
  /** Attempts per request after the first, on retryable errors and dropped connections (default 5). */
  retries?: number;
  /** Parallel range requests per file (default 8). */
  concurrency?: number;
  /** Bytes per range request (default 8 MiB); objects up to one part use one request. */
  partSize?: number;
  /** 'stat' (default): a warm hit trusts the sidecar record; 'full': re-hash the cached blob. */
  verify?: 'stat' | 'full';
  /** Cache only, no network (default: STOWAGE_OFFLINE=1). */
  offline?: boolean;
  onProgress?: (status: FileStatus) => void;
  /** Milliseconds between progress log lines per file (default 5000; 0 = none). */
  progressInterval?: number;
  /** Milliseconds without a byte before a connection is dropped and retried (default 30000). */
  stallTimeout?: number;
  /**
   * Bytes per second a download must average over each minRateWindow (default 131072, 128 KiB/s;
   * 0 = no floor). Below it the file fails with UNAVAILABLE: a source that cuts or stalls every
   * response a little further on would otherwise keep the retries going for hours.
   */
  minRate?: number;
  /** The window minRate is measured over, in ms (default 60000). */
  minRateWindow?: number;
  /** A lock whose heartbeat is older than this many ms belongs to a dead loader (default 20000). */
  staleLockMs?: number;
  /** How long to wait for another process loading the same blob, in ms (default 600000). */
  lockTimeout?: number;
  /** Bytes to leave free on the cache disk; the free-space check fails before downloading otherwise (default 0). */
  reserveBytes?: number;
  /** Extra request headers for http(s) sources (e.g. Authorization; never logged). */
  headers?: Record<string, string>;
  /** Hugging Face token for hf:// sources (default HF_TOKEN); sent to the hub's own host only. */
  hfToken?: string;
  /** The hub's address for hf:// sources (default HF_ENDPOINT, else https://huggingface.co). */
  hfEndpoint?: string;
  /** Cap on the cache's blob bytes: after a download, least recently used unlinked blobs are evicted (default: no cap). */
  maxCacheBytes?: number;
}

export interface ResolvedLoaderOptions {
  cacheDir: string;
  signal: AbortSignal | undefined;
  retries: number;
  concurrency: number;
  partSize: number;
  verify: 'stat' | 'full';
  offline: boolean;
  onProgress: ((status: FileStatus) => void) | undefined;
  progressInterval: number;
  stallTimeout: number;
  minRate: number;
  minRateWindow: number;
  staleLockMs: number;
  lockTimeout: number;
  reserveBytes: number;
  headers: Record<string, string> | undefined;
  maxCacheBytes: number | undefined;
  hfToken: string | undefined;
  hfEndpoint: string | undefined;
}

function positive(value: unknown, what: string, fallback: number): number {
  return checkInteger(value, what, { min: 1 }) ?? fallback;
}

/** Node's timers take at most this many ms; a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration in ms that drives a timer: `min` or more, and no longer than a timer can wait. */
export function timerMs(value: unknown, what: string, fallback: number, min = 1): number {
  const n = checkInteger(value, what) ?? fallback;
  if (n < min || n > MAX_TIMER_MS) {
    throw invalidArg(`${what} must be between ${min} and ${MAX_TIMER_MS} ms, got ${String(value)}`);
  }
  return n;
}

export function resolveLoaderOptions(
  opts: LoaderOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
  appRoot = process.cwd(),
): ResolvedLoaderOptions {
  checkOptionsObject(opts, 'loader options');
  const o = opts ?? {};
  if (o.cacheDir !== undefined && (typeof o.cacheDir !== 'string' || o.cacheDir === '')) {
    throw invalidArg('options.cacheDir must be a directory path');
  }
  if (o.verify !== undefined && o.verify !== 'stat' && o.verify !== 'full') {
    throw invalidArg(`options.verify must be 'stat' or 'full', got ${JSON.stringify(o.verify)}`);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidArg('options.onProgress must be a function');
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArg('options.signal must be an AbortSignal');
  }
  checkOptionsObject(o.headers, 'options.headers');
  return {
    cacheDir: o.cacheDir ?? defaultCacheDir(env, appRoot),
    signal: o.signal,
    retries: checkInteger(o.retries, 'options.retries') ?? 5,
    concurrency: positive(o.concurrency, 'options.concurrency', 8),
    partSize: positive(o.partSize, 'options.partSize', 8 * 1024 * 1024),
    verify: o.verify ?? 'stat',
    offline: o.offline ?? (env.STOWAGE_OFFLINE === '1' || env.STOWAGE_OFFLINE === 'true'),
    onProgress: o.onProgress,
    progressInterval: checkInteger(o.progressInterval, 'options.progressInterval') ?? 5_000,
    stallTimeout: timerMs(o.stallTimeout, 'options.stallTimeout', 30_000),
    minRate: checkInteger(o.minRate, 'options.minRate') ?? 128 * 1024,
    minRateWindow: timerMs(o.minRateWindow, 'options.minRateWindow', 60_000),
    staleLockMs: positive(o.staleLockMs, 'options.staleLockMs', 20_000),
    lockTimeout: checkInteger(o.lockTimeout, 'options.lockTimeout') ?? 600_000,
    reserveBytes: checkInteger(o.reserveBytes, 'options.reserveBytes') ?? 0,
    headers: o.headers,
    maxCacheBytes: checkInteger(o.maxCacheBytes, 'options.maxCacheBytes'),
    hfToken: o.hfToken,
    hfEndpoint: o.hfEndpoint,
  };
}

/** What the caller expects the object to be. */
export interface Expected {
  sha256?: string;
  size?: number;
}

export function checkExpected(sha256: unknown, size: unknown): Expected {
  const out: Expected = {};
  if (sha256 !== undefined) out.sha256 = normaliseSha256(sha256, 'options.sha256');
  const n = checkInteger(size, 'options.size');
  if (n !== undefined) out.size = n;
  return out;
}
