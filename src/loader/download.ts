import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { type FileHandle, open, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isStowageError, StowageError } from '../core/errors.js';
import { type Digest, DigestStream } from '../core/integrity.js';
import { readJson, writeJsonAtomic } from './cache.js';
import { diskError } from './disk.js';
import { OrderedHasher } from './ordered-hasher.js';
import type { FileProgress } from './progress.js';
import { RateFloor } from './rate-floor.js';
import { ObjectChangedError, RangeIgnoredError, type Remote, type RemoteMeta } from './remote.js';
import { isRetryable, retryDelay, sleep } from './retry.js';

export interface DownloadPlan {
  remote: Remote;
  meta: RemoteMeta;
  /** Deterministic per blob (under the blob's lock), so a restart can resume it. */
  partialPath: string;
  partSize: number;
  concurrency: number;
  retries: number;
  stallTimeout: number;
  /** Bytes per second a download must average over each minRateWindow ms (0: no floor). */
  minRate: number;
  minRateWindow: number;
  signal?: AbortSignal;
  progress: FileProgress;
}

/** Saved beside the partial file after every finished part: what a restart may keep. */
interface PartRecord {
  v: 1;
  size: number;
  etag?: string;
  lastModified?: string;
  partSize: number;
  done: number[];
}

/**
 * Downloads the object into plan.partialPath and returns its sha256 and size.
 * Objects that accept ranges are fetched as parts, several at a time, each
 * written at its offset and pinned to the probed version; finished parts are
 * recorded so a crashed run resumes. The digest is computed in order as
 * parts complete (read back from the page cache), so it is ready at the end.
 */
/**
 * A finished download: digest of the bytes written, and the inode they were
 * written to. The partial path is shared by every run for the blob (so a
 * restart resumes it); should another holder ever replace the file there,
 * the inode no longer matches and the bytes at the path are not committed.
 */
export interface Downloaded extends Digest {
  ino: number;
}

export async function download(plan: DownloadPlan): Promise<Downloaded> {
  const floor = new RateFloor(plan.progress, plan.minRate, plan.minRateWindow);
  const signal = plan.signal ? AbortSignal.any([plan.signal, floor.signal]) : floor.signal;
  try {
    return await fetchObject({ ...plan, signal });
  } catch (err) {
    throw floor.error ?? err;
  } finally {
    floor.stop();
  }
}

async function fetchObject(plan: DownloadPlan): Promise<Downloaded> {
  if (plan.meta.size === 0) return emptyFile(plan);
  if (!plan.meta.acceptsRanges) return singleStream(plan);
  try {
    return await ranged(plan);
  } catch (err) {
    if (!(err instanceof RangeIgnoredError)) throw err;
    await discardPartial(plan.partialPath);
    return singleStream(plan);
  }
}

/** Bytes a resume would keep (finished parts of a matching record); 0 when it would start over. */
export async function resumableBytes(
  partialPath: string,
  meta: RemoteMeta,
  partSize: number,
): Promise<number> {
  const record = meta.acceptsRanges
    ? await loadRecord(`${partialPath}.json`, partialPath, meta, partSize)
    : undefined;
  if (!record) return 0;
  return record.done.reduce(
    (sum, i) => sum + Math.max(0, Math.min(meta.size, (i + 1) * partSize) - i * partSize),
    0,
  );
}

/** An empty object: nothing to fetch, no range to ask for. */
async function emptyFile(plan: DownloadPlan): Promise<Downloaded> {
  const handle = await open(plan.partialPath, 'w', 0o644);
  const { ino } = await handle.stat().finally(() => handle.sync().finally(() => handle.close()));
  plan.progress.total = 0;
  return { sha256: createHash('sha256').digest('hex'), size: 0, ino };
}

export async function discardPartial(partialPath: string): Promise<void> {
  await unlink(partialPath).catch(() => undefined);
  await unlink(`${partialPath}.json`).catch(() => undefined);
}

async function ranged(plan: DownloadPlan): Promise<Downloaded> {
  const { meta, partialPath, progress } = plan;
  const partSize = plan.partSize;
  const count = Math.max(1, Math.ceil(meta.size / partSize));
  const recordPath = `${partialPath}.json`;
  const record = await loadRecord(recordPath, partialPath, meta, partSize);
  const done = new Set(record?.done ?? []);
  if (!record) await discardPartial(partialPath);
  const handle = await open(partialPath, record ? 'r+' : 'w+', 0o644).catch((err) => {
    throw diskError(err, partialPath);
  });
  let hasher: OrderedHasher | undefined;
  try {
    if (!record) await handle.truncate(meta.size).catch((err) => Promise.reject(diskError(err, partialPath)));
    const bounds = (i: number) => ({ start: i * partSize, end: Math.min(meta.size, (i + 1) * partSize) - 1 });
    progress.total = meta.size;
    progress.resumedFrom([...done].reduce((sum, i) => sum + bounds(i).end - bounds(i).start + 1, 0));
    hasher = new OrderedHasher(partialPath, handle, meta.size, count, bounds);
    for (const i of done) hasher.partDone(i);
    let saving = Promise.resolve();
    const save = () => {
      const snapshot: PartRecord = { v: 1, size: meta.size, partSize, done: [...done] };
      if (meta.etag) snapshot.etag = meta.etag;
      if (meta.lastModified) snapshot.lastModified = meta.lastModified;
      saving = saving.then(() => writeJsonAtomic(recordPath, snapshot)).catch(() => undefined);
      return saving;
    };
    if (!record) await save();
    const queue = [...Array(count).keys()].filter((i) => !done.has(i));
    const stop = new AbortController();
    const signal = plan.signal ? AbortSignal.any([plan.signal, stop.signal]) : stop.signal;
    // Every part request and backoff listens on it: more than the default 10 at once is expected.
    setMaxListeners(plan.concurrency * 4 + 16, signal);
    let failure: unknown;
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined && failure === undefined; i = queue.shift()) {
        try {
          await fetchPart(plan, handle, bounds(i), signal);
        } catch (err) {
          failure ??= err;
          stop.abort();
          return;
        }
        done.add(i);
        hasher?.partDone(i);
        await save();
      }
    };
    const workers = Math.min(plan.concurrency, Math.max(1, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
    await saving;
    if (failure !== undefined) throw failure;
    const sha256 = await hasher.finish();
    await handle.sync();
    await unlink(recordPath).catch(() => undefined);
    return { sha256, size: meta.size, ino: (await handle.stat()).ino };
  } finally {
    await hasher?.close().catch(() => undefined);
    await handle.close().catch(() => undefined);
  }
}

/** A record is reused only if it describes the same version and the partial file is still there. */
async function loadRecord(
  recordPath: string,
  partialPath: string,
  meta: RemoteMeta,
  partSize: number,
): Promise<PartRecord | undefined> {
  // Without an ETag or Last-Modified nothing tells this version from another of the same size.
  if (!meta.etag && !meta.lastModified) return undefined;
  const record = await readJson<PartRecord>(recordPath);
  if (record?.v !== 1 || record.size !== meta.size || record.partSize !== partSize) return undefined;
  if (record.etag !== meta.etag || record.lastModified !== meta.lastModified) return undefined;
  const st = await stat(partialPath).catch(() => undefined);
  if (!st || st.size !== meta.size || !Array.isArray(record.done)) return undefined;
  return record;
}

/** Fetches one part, continuing from the last byte written after a dropped connection. */
async function fetchPart(
  plan: DownloadPlan,
  handle: FileHandle,
  part: { start: number; end: number },
  signal: AbortSignal,
): Promise<void> {
  let pos = part.start;
  let attempt = 0;
  // Socket chunks are small: batching them into ~1 MiB writes saves most syscalls and awaits.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const buffers = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    await writeAt(handle, buffers, bytes, pos).catch((err) =>
      Promise.reject(diskError(err, plan.partialPath)),
    );
    pos += bytes;
    plan.progress.add(bytes);
  };
  for (;;) {
    const before = pos;
    try {
      const { body } = await plan.remote.open({ start: pos, end: part.end }, plan.meta, signal);
      for await (const chunk of idle(body, plan.stallTimeout, plan.remote.label) as AsyncIterable<Buffer>) {
        if (pos + pendingBytes + chunk.length > part.end + 1) {
          body.destroy();
          throw new StowageError(
            'UNAVAILABLE',
            `${plan.remote.label}: the server sent more bytes than asked`,
            {
              retryable: true,
            },
          );
        }
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH) await flush();
      }
      await flush();
      if (pos <= part.end) {
        throw new StowageError('UNAVAILABLE', `${plan.remote.label}: connection closed at byte ${pos}`, {
          retryable: true,
        });
      }
      return;
    } catch (err) {
      // Bytes that arrived before a dropped connection are good: keep them, resume after them.
      if (!isStowageError(err, 'DISK_FULL')) await flush().catch(() => undefined);
      pending = [];
      pendingBytes = 0;
      if (signal.aborted) throw plan.signal?.aborted ? aborted(plan) : err;
      if (err instanceof ObjectChangedError || err instanceof RangeIgnoredError || !isRetryable(err))
        throw err;
      if (pos > before) attempt = 0; // progress was made: a flaky link, not a dead one
      if (attempt++ >= plan.retries) throw err;
      await sleep(retryDelay(err, attempt), signal);
    }
  }
}

const WRITE_BATCH = 1024 * 1024;

/** Writes all buffers at `position`, finishing any short write. */
async function writeAt(
  handle: FileHandle,
  buffers: Buffer[],
  bytes: number,
  position: number,
): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === bytes) return;
  const rest = Buffer.concat(buffers).subarray(bytesWritten);
  for (let done = 0; done < rest.length; ) {
    const r = await handle.write(rest, done, rest.length - done, position + bytesWritten + done);
    done += r.bytesWritten;
  }
}

/** Servers that ignore Range: one stream from byte 0, hashed as it streams, restarted on failure. */
async function singleStream(plan: DownloadPlan): Promise<Downloaded> {
  const { progress } = plan;
  progress.total = plan.meta.size;
  progress.resumedFrom(0);
  for (let attempt = 0; ; attempt++) {
    const digest = new DigestStream({ label: plan.remote.label });
    let written = 0;
    digest.on('data', (chunk: Buffer) => {
      written += chunk.length;
      progress.add(chunk.length);
    });
    try {
      const file = await open(plan.partialPath, 'w', 0o644).catch((err) =>
        Promise.reject(diskError(err, plan.partialPath)),
      );
      try {
        const { ino } = await file.stat();
        const { body } = await plan.remote.open(undefined, plan.meta, plan.signal);
        // flush: fsync before the stream closes the handle (the bytes are on disk before the rename).
        const out = file.createWriteStream({ flush: true });
        await pipeline(idle(body, plan.stallTimeout, plan.remote.label), digest, out).catch((err) =>
          Promise.reject(diskError(err, plan.partialPath)),
        );
        const result = digest.digest();
        if (result.size !== plan.meta.size) {
          throw new StowageError(
            'UNAVAILABLE',
            `${plan.remote.label}: got ${result.size} of ${plan.meta.size} bytes`,
            { retryable: true },
          );
        }
        return { ...result, ino };
      } finally {
        await file.close().catch(() => undefined);
      }
    } catch (err) {
      progress.remove(written);
      if (plan.signal?.aborted) throw aborted(plan);
      if (err instanceof ObjectChangedError || !isRetryable(err) || attempt >= plan.retries) throw err;
      await sleep(retryDelay(err, attempt + 1), plan.signal);
    }
  }
}

/** Destroys the body when no byte arrives for `ms`: a stalled connection is retried, not waited on forever. */
function idle(body: Readable, ms: number, label: string): Readable {
  const timer = setTimeout(() => {
    body.destroy(new StowageError('UNAVAILABLE', `${label}: no data for ${ms} ms`, { retryable: true }));
  }, ms);
  timer.unref();
  body.on('data', () => timer.refresh());
  body.once('close', () => clearTimeout(timer));
  return body;
}

function aborted(plan: DownloadPlan): StowageError {
  return new StowageError('ABORTED', `${plan.remote.label}: download aborted`, {
    cause: plan.signal?.reason,
  });
}
