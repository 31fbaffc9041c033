import { stat } from 'node:fs/promises';
import { isStowageError, StowageError } from '../core/errors.js';
import { formatBytes } from '../util/bytes.js';
import { log } from '../util/log.js';
import { BlobCache, markHandedOut } from './cache.js';
import { checkFreeSpace } from './disk.js';
import { type Downloaded, discardPartial, download, resumableBytes } from './download.js';
import { acquireLock } from './lock.js';
import type { Expected, ResolvedLoaderOptions } from './options.js';
import { doneLine, type FileProgress } from './progress.js';
import { ObjectChangedError, type Remote, type RemoteMeta } from './remote.js';
import { withRetries } from './retry.js';

export interface Blob {
  path: string;
  sha256: string;
  size: number;
  /** False when the blob came from the cache. */
  downloaded: boolean;
}

/** How often an object may change under us before we give up. */
const MAX_RESTARTS = 3;

/**
 * Makes sure the object is a verified blob in the cache and returns it.
 * With a known sha256 a warm hit is a stat and no request; without one the
 * source is probed (one small request) and matched by ETag and size.
 */
export async function ensureBlob(
  remote: Remote,
  expected: Expected,
  options: ResolvedLoaderOptions,
  progress: FileProgress,
): Promise<Blob> {
  const cache = new BlobCache(options.cacheDir);
  progress.setState('checking');
  await cache.init(options.staleLockMs);
  if (expected.size !== undefined) progress.total = expected.size;

  const warm = await findWarm(cache, remote, expected, options);
  if (warm.blob) return hit(warm.blob, progress);
  if (options.offline) {
    throw new StowageError(
      'NOT_FOUND',
      `offline mode (STOWAGE_OFFLINE): ${progress.name} is not in the cache ${cache.dir}; run once with network access, or unset STOWAGE_OFFLINE`,
    );
  }

  const lockId = expected.sha256 ?? cache.refId(remote.identity);
  progress.setState('waiting');
  const lock = await acquireLock(cache.lockPath(lockId), {
    staleMs: options.staleLockMs,
    timeoutMs: options.lockTimeout,
    signal: options.signal,
    label: progress.name,
    done: async () => (expected.sha256 ? cache.isWarm(expected.sha256, 'stat', expected.size) : false),
  });
  try {
    if (!lock && expected.sha256) return hit(await blobOf(cache, expected.sha256), progress);
    if (lock) await cache.sweepTempsOf(lockId, expected.sha256, options.staleLockMs);
    // Another process may have finished while we waited for the lock.
    const again = await findWarm(cache, remote, expected, options, warm.meta);
    if (again.blob) return hit(again.blob, progress);
    const job = { cache, remote, expected, options, progress, partialPath: cache.partialPath(lockId) };
    return await fetchVerified(job, again.meta);
  } finally {
    await lock?.release();
  }
}

async function findWarm(
  cache: BlobCache,
  remote: Remote,
  expected: Expected,
  options: ResolvedLoaderOptions,
  known?: RemoteMeta,
): Promise<{ blob?: Blob; meta?: RemoteMeta }> {
  if (expected.sha256) {
    const ok = await cache.isWarm(expected.sha256, options.verify, expected.size);
    return ok ? { blob: await blobOf(cache, expected.sha256) } : {};
  }
  const ref = await cache.readRef(remote.identity);
  if (ref && remote.immutable && (await cache.isWarm(ref.sha256, options.verify, ref.size)))
    return { blob: await blobOf(cache, ref.sha256) };
  if (options.offline) {
    if (ref && (await cache.isWarm(ref.sha256, options.verify, ref.size)))
      return { blob: await blobOf(cache, ref.sha256) };
    return {};
  }
  const meta = known ?? (await probe(remote, options));
  const sha256 = meta.sha256 ?? (ref && sameVersion(ref, meta) ? ref.sha256 : undefined);
  if (sha256 && (await cache.isWarm(sha256, options.verify, meta.size)))
    return { blob: await blobOf(cache, sha256), meta };
  return { meta };
}

function sameVersion(ref: { size: number; etag?: string; lastModified?: string }, meta: RemoteMeta): boolean {
  if (ref.size !== meta.size) return false;
  if (ref.etag || meta.etag) return ref.etag === meta.etag;
  // Neither side has an ETag: Last-Modified plus size is the best identity there is.
  return ref.lastModified !== undefined && ref.lastModified === meta.lastModified;
}

async function blobOf(cache: BlobCache, sha256: string): Promise<Blob> {
  const path = cache.blobPath(sha256);
  const st = await stat(path);
  return { path, sha256, size: st.size, downloaded: false };
}

function hit(blob: Blob, progress: FileProgress): Blob {
  markHandedOut(blob.path);
  progress.cached = true;
  progress.total = blob.size;
  progress.bytes = blob.size;
  progress.setState('ready');
  return blob;
}

/** One blob being fetched: what is fetched, from where, and where its partial file lives. */
interface FetchJob {
  cache: BlobCache;
  remote: Remote;
  expected: Expected;
  options: ResolvedLoaderOptions;
  progress: FileProgress;
  /** Shared by every run for this blob, so a later run can resume it. */
  partialPath: string;
}

/** Downloads, verifies and commits the blob: re-probes when the object changed mid-way or its sha256 missed once. */
async function fetchVerified(job: FetchJob, probed: RemoteMeta | undefined): Promise<Blob> {
  const { remote, expected, options, progress } = job;
  let meta = probed ?? (await probe(remote, options));
  let restarts = 0;
  let mismatches = 0;
  for (;;) {
    if (expected.size !== undefined && meta.size !== expected.size) {
      throw new StowageError(
        'CHECKSUM_MISMATCH',
        `${progress.name}: expected ${expected.size} bytes, but ${remote.label} has ${meta.size}; update the manifest or the source`,
      );
    }
    const want = expected.sha256 ?? meta.sha256;
    const started = Date.now();
    let digest: Downloaded;
    try {
      digest = await downloadOnce(job, meta);
    } catch (err) {
      if (!(err instanceof ObjectChangedError) || ++restarts > MAX_RESTARTS) throw err;
      log.warn(err.message);
      meta = await probe(remote, options);
      continue;
    }
    progress.setState('verifying');
    if (want && digest.sha256 !== want) {
      await discardPartial(job.partialPath);
      if (++mismatches < 2) {
        log.warn(`${progress.name}: sha256 mismatch, downloading again`);
        meta = await probe(remote, options);
        continue;
      }
      throw new StowageError(
        'CHECKSUM_MISMATCH',
        `${progress.name}: sha256 mismatch, expected ${want}, got ${digest.sha256} (from ${remote.label})`,
      );
    }
    const blob = await commitDownload(job, meta, digest);
    log.info(doneLine(progress, (Date.now() - started) / 1000, Boolean(want)));
    return blob;
  }
}

/** One download into the partial file, resuming what it holds; a full disk or a changed object leaves nothing. */
async function downloadOnce(job: FetchJob, meta: RemoteMeta): Promise<Downloaded> {
  const { remote, options, progress, partialPath } = job;
  const have = await resumableBytes(partialPath, meta, options.partSize);
  await checkFreeSpace(job.cache.dir, Math.max(0, meta.size - have), options.reserveBytes, progress.name);
  progress.setState('downloading');
  log.info(`${progress.name}: downloading ${formatBytes(meta.size)} from ${remote.label}`);
  try {
    return await download({
      remote,
      meta,
      partialPath,
      partSize: options.partSize,
      concurrency: options.concurrency,
      retries: options.retries,
      stallTimeout: options.stallTimeout,
      minRate: options.minRate,
      minRateWindow: options.minRateWindow,
      signal: options.signal,
      progress,
    });
  } catch (err) {
    // Other failures keep the partial for a resume.
    if (isStowageError(err, 'DISK_FULL') || err instanceof ObjectChangedError)
      await discardPartial(partialPath);
    throw err;
  }
}

/** Moves the verified partial into the cache (only the file this run wrote) and records its version. */
async function commitDownload(job: FetchJob, meta: RemoteMeta, digest: Downloaded): Promise<Blob> {
  const { cache, progress, partialPath } = job;
  const atPath = await stat(partialPath).catch(() => undefined);
  if (atPath?.ino !== digest.ino) {
    throw new StowageError(
      'UNAVAILABLE',
      `${progress.name}: the partial download was replaced by another process while this one wrote it; not committed`,
      { retryable: true },
    );
  }
  const path = await cache.commit(partialPath, digest.sha256);
  if (!job.expected.sha256) {
    await cache.writeRef({
      v: 1,
      identity: job.remote.identity,
      size: digest.size,
      sha256: digest.sha256,
      ...(meta.etag ? { etag: meta.etag } : {}),
      ...(meta.lastModified ? { lastModified: meta.lastModified } : {}),
    });
  }
  markHandedOut(path);
  progress.setState('ready');
  return { path, sha256: digest.sha256, size: digest.size, downloaded: true };
}

/** Applies options.maxCacheBytes, keeping the blobs just used. */
export async function enforceCacheCap(options: ResolvedLoaderOptions, keep: string[]): Promise<void> {
  if (options.maxCacheBytes === undefined) return;
  const evicted = await new BlobCache(options.cacheDir).evict(options.maxCacheBytes, new Set(keep));
  if (evicted.length) {
    log.info(`cache over ${formatBytes(options.maxCacheBytes)}: evicted ${evicted.length} unused blob(s)`);
  }
}

function probe(remote: Remote, options: ResolvedLoaderOptions): Promise<RemoteMeta> {
  return withRetries(() => remote.probe(options.signal), options.retries, options.signal);
}
