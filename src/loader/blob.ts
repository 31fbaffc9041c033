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
    return await fetchVerified(cache, remote, expected, options, progress, lockId, again.meta);
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

async function fetchVerified(
  cache: BlobCache,
  remote: Remote,
  expected: Expected,
  options: ResolvedLoaderOptions,
  progress: FileProgress,
  lockId: string,
  probed: RemoteMeta | undefined,
): Promise<Blob> {
  const partialPath = cache.partialPath(lockId);
  let meta = probed ?? (await probe(remote, options));
  let mismatches = 0;
  for (let restarts = 0; ; ) {
    if (expected.size !== undefined && meta.size !== expected.size) {
      throw new StowageError(
        'CHECKSUM_MISMATCH',
        `${progress.name}: expected ${expected.size} bytes, but ${remote.label} has ${meta.size}; update the manifest or the source`,
      );
    }
    const want = expected.sha256 ?? meta.sha256;
    const have = await resumableBytes(partialPath, meta, options.partSize);
    await checkFreeSpace(cache.dir, Math.max(0, meta.size - have), options.reserveBytes, progress.name);
    progress.setState('downloading');
    log.info(`${progress.name}: downloading ${formatBytes(meta.size)} from ${remote.label}`);
    const started = Date.now();
    let digest: Downloaded;
    try {
      digest = await download({
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
      if (!(err instanceof ObjectChangedError) || ++restarts > MAX_RESTARTS) {
        // A full disk leaves nothing behind; other failures keep the partial for a resume.
        if (isStowageError(err, 'DISK_FULL') || err instanceof ObjectChangedError)
          await discardPartial(partialPath);
        throw err;
      }
      log.warn(err.message);
      await discardPartial(partialPath);
      meta = await probe(remote, options);
      continue;
    }
    progress.setState('verifying');
    if (want && digest.sha256 !== want) {
      await discardPartial(partialPath);
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
    // The partial path is shared by every run for this blob: commit only the file this run wrote.
    const atPath = await stat(partialPath).catch(() => undefined);
    if (atPath?.ino !== digest.ino) {
      throw new StowageError(
        'UNAVAILABLE',
        `${progress.name}: the partial download was replaced by another process while this one wrote it; not committed`,
        { retryable: true },
      );
    }
    const path = await cache.commit(partialPath, digest.sha256);
    if (!expected.sha256) {
      await cache.writeRef({
        v: 1,
        identity: remote.identity,
        size: digest.size,
        sha256: digest.sha256,
        ...(meta.etag ? { etag: meta.etag } : {}),
        ...(meta.lastModified ? { lastModified: meta.lastModified } : {}),
      });
    }
    markHandedOut(path);
    progress.setState('ready');
    log.info(doneLine(progress, (Date.now() - started) / 1000, Boolean(want)));
    return { path, sha256: digest.sha256, size: digest.size, downloaded: true };
  }
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
