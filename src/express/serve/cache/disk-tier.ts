import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StowageError } from '../../../core/errors.js';
import type { ObjectInfo } from '../../../core/types.js';
import { log } from '../../../util/log.js';
import { isProcessAlive } from '../../../util/process-alive.js';

export interface DiskEntry {
  info: ObjectInfo;
  /** The file holding this version; unique per version, never rewritten in place. */
  path: string;
  size: number;
  checkedAt: number;
}

export interface DiskTierOptions {
  /** Parent directory; each tier makes its own subdirectory inside it. */
  dir?: string;
  /** Total bytes of committed files plus writes in progress. */
  maxBytes: number;
  /** Largest single object kept on disk. */
  maxObjectBytes: number;
}

/** Where serve()'s disk tier keeps objects: STOWAGE_CACHE_DIR, else a folder under the OS temp dir (the ephemeral disk is fine for a cache). Not the loader's cache (loader/cache.ts defaultCacheDir). */
export function defaultServeCacheDir(): string {
  return process.env.STOWAGE_CACHE_DIR || join(tmpdir(), 'stowage-cache');
}

/**
 * Larger objects as files on local disk, bounded in bytes with LRU
 * eviction. Each write goes to a unique temp file renamed into place, so a
 * reader never sees a partial file; a file is unlinked on eviction, and a
 * reader that already opened it keeps reading the old bytes safely.
 */
export class DiskTier {
  readonly maxBytes: number;
  readonly maxObjectBytes: number;
  private readonly parent: string;
  private dirPromise: Promise<string> | undefined;
  /** Map order is recency order: oldest first. */
  private readonly index = new Map<string, DiskEntry>();
  private committed = 0;
  private reserved = 0;
  private closed = false;
  private lastWarning = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(options: DiskTierOptions) {
    this.parent = options.dir ?? defaultServeCacheDir();
    this.maxBytes = options.maxBytes;
    this.maxObjectBytes = Math.min(options.maxObjectBytes, options.maxBytes);
  }

  /**
   * The tier's own directory, created on first use (unique per process and
   * tier, named after the pid). Its mtime is touched every minute while the
   * process lives. Directories left by processes that are gone (a dead pid,
   * or no heartbeat for STALE_TIER_MS: in containers every process may be
   * pid 1) are removed then, so restarts on a long-lived disk do not pile up.
   */
  dir(): Promise<string> {
    this.dirPromise ??= (async () => {
      await mkdir(this.parent, { recursive: true });
      await sweepDeadTiers(this.parent);
      const dir = await mkdtemp(join(this.parent, `serve-${process.pid}-`));
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => {
        const now = new Date();
        utimes(dir, now, now).catch(() => undefined);
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
      return dir;
    })();
    return this.dirPromise;
  }

  fits(size: number): boolean {
    return size <= this.maxObjectBytes;
  }

  /** Looks up an entry and marks it most recently used. */
  get(key: string): DiskEntry | undefined {
    const entry = this.index.get(key);
    if (entry) {
      this.index.delete(key);
      this.index.set(key, entry);
    }
    return entry;
  }

  /** Opens the entry's file, or undefined if it was evicted meanwhile (the caller falls back to the origin). */
  async open(entry: DiskEntry): Promise<Awaited<ReturnType<typeof open>> | undefined> {
    try {
      return await open(entry.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Writes `body` (exactly info.size bytes) into the tier. Returns the new
   * entry, or undefined when the space cannot be reserved right now (the
   * body is then left unread for the caller to discard).
   */
  async store(
    key: string,
    body: Readable,
    info: ObjectInfo,
    checkedAt: number,
  ): Promise<DiskEntry | undefined> {
    const size = info.size;
    if (this.closed || !this.fits(size)) return undefined;
    let dir: string;
    try {
      dir = await this.dir();
    } catch (err) {
      this.diskFailed(err);
      return undefined;
    }
    if (!(await this.reserve(size))) return undefined;
    const temp = join(dir, `tmp-${randomUUID()}`);
    const final = join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}-${randomUUID()}`);
    let written = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written > size) done(sizeMismatch(key, size));
        else done(null, chunk);
      },
    });
    const sink = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
    let diskError: unknown;
    sink.on('error', (err: NodeJS.ErrnoException) => {
      // Only the filesystem's own failures (ENOSPC, ENOENT…), not the body's error pipeline passes on.
      if (err.syscall !== undefined) diskError = err;
    });
    try {
      await pipeline(body, counter, sink);
      if (written !== size) throw sizeMismatch(key, size);
      await rename(temp, final).catch((err: unknown) => {
        diskError = err;
        throw err;
      });
    } catch (err) {
      this.reserved -= size;
      // The sink may still be opening the temp file: let it close first, or the unlink misses it.
      if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
      await unlink(temp).catch(() => undefined);
      // A full or vanished disk is the cache's problem, not the request's: serve from the origin.
      if (diskError !== undefined) {
        this.diskFailed(diskError);
        return undefined;
      }
      throw err;
    }
    this.reserved -= size;
    const entry: DiskEntry = { info, path: final, size, checkedAt };
    const previous = this.index.get(key);
    if (previous) this.drop(key, previous);
    if (this.closed) {
      await unlink(final).catch(() => undefined);
      return undefined;
    }
    this.index.set(key, entry);
    this.committed += size;
    return entry;
  }

  delete(key: string): void {
    const entry = this.index.get(key);
    if (entry) this.drop(key, entry);
  }

  /** Bytes on disk plus bytes reserved by writes in progress. */
  get bytes(): number {
    return this.committed + this.reserved;
  }

  get entries(): number {
    return this.index.size;
  }

  /** Removes every file of this tier, including its directory. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.index.clear();
    this.committed = 0;
    if (this.dirPromise) {
      const dir = await this.dirPromise.catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  private diskFailed(err: unknown): void {
    // The directory may have been removed under us: make a new one next time.
    if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') this.dirPromise = undefined;
    const now = Date.now();
    if (now - this.lastWarning > 60_000) {
      this.lastWarning = now;
      log.warn(`disk cache unavailable, serving from the origin: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Evicts least recently used files until `size` more bytes fit under maxBytes. */
  private async reserve(size: number): Promise<boolean> {
    const victims: string[] = [];
    for (const [key, entry] of this.index) {
      if (this.committed + this.reserved + size <= this.maxBytes) break;
      this.index.delete(key);
      this.committed -= entry.size;
      victims.push(entry.path);
    }
    if (this.committed + this.reserved + size > this.maxBytes) {
      await Promise.all(victims.map((path) => unlink(path).catch(() => undefined)));
      return false;
    }
    this.reserved += size;
    await Promise.all(victims.map((path) => unlink(path).catch(() => undefined)));
    return true;
  }

  private drop(key: string, entry: DiskEntry): void {
    this.index.delete(key);
    this.committed -= entry.size;
    // Readers that opened the file keep their descriptor; the bytes go when they close it.
    unlink(entry.path).catch(() => undefined);
  }
}

/** Removes serve-<pid>-* directories whose process no longer exists on this host. */
const HEARTBEAT_MS = 60_000;
/** A tier directory not touched for this long belongs to no live process, whatever its pid says. */
const STALE_TIER_MS = 10 * HEARTBEAT_MS;

async function sweepDeadTiers(parent: string): Promise<void> {
  const entries = await readdir(parent).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (name) => {
      const pid = Number(/^serve-(\d+)-/.exec(name)?.[1]);
      if (!pid) return;
      const path = join(parent, name);
      const gone = pid !== process.pid && !isProcessAlive(pid);
      const silent =
        !gone &&
        Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now()) > STALE_TIER_MS;
      if (gone || silent) await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

function sizeMismatch(key: string, size: number): StowageError {
  return new StowageError(
    'UNAVAILABLE',
    `the origin sent a different number of bytes than the ${size} announced for "${key}"; it may have changed mid-read`,
    { key, retryable: true },
  );
}
