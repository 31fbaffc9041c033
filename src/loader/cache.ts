import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { digestFile } from '../core/integrity.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** Temp files carry this marker, so a sweep can tell them from anything else. */
export const TEMP_MARKER = '.stowage-tmp-';

/** The sidecar of a blob: a warm hit compares these with one stat, no re-hash. */
export interface BlobRecord {
  v: 1;
  sha256: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** The sidecar of a file copied out of the cache to an app path (see BlobCache.isPlacedCopy). */
interface PlacedRecord {
  v: 1;
  path: string;
  sha256: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Where a source without a known checksum last resolved to (see loadModel docs). */
export interface SourceRef {
  v: 1;
  identity: string;
  size: number;
  etag?: string;
  lastModified?: string;
  sha256: string;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(env.STOWAGE_CACHE_DIR || join(cwd, 'node_modules', '.cache', 'stowage'));
}

const swept = new Set<string>();

/**
 * Blobs this process has handed out (loadModel returns the blob's own path):
 * never evicted by this process, however long ago they were downloaded.
 */
const handedOut = new Set<string>();

export function markHandedOut(path: string): void {
  handedOut.add(path);
}

/** Blobs touched this recently are never evicted. */
const RECENT_MS = 10 * 60 * 1000;

/**
 * The content-addressed cache: blobs/sha256/ab/<hash> (+ .json sidecar),
 * tmp/ for partial downloads, locks/ for cross-process locks, refs/ for
 * sources known only by URL.
 */
export class BlobCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  blobPath(sha256: string): string {
    return join(this.dir, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  }

  partialPath(id: string): string {
    return join(this.dir, 'tmp', `${id}.part`);
  }

  lockPath(id: string): string {
    return join(this.dir, 'locks', `${id}.lock`);
  }

  refId(identity: string): string {
    return `ref-${createHash('sha256').update(identity).digest('hex').slice(0, 40)}`;
  }

  /** Creates the folders and, once per process, removes temp files left by crashed runs. */
  async init(staleMs: number): Promise<void> {
    await Promise.all(['tmp', 'locks', 'refs'].map((d) => mkdir(join(this.dir, d), { recursive: true })));
    if (swept.has(this.dir)) return;
    swept.add(this.dir);
    await sweepTemps(join(this.dir, 'tmp'), '', staleMs);
    await sweepTemps(join(this.dir, 'refs'), '', staleMs);
    await sweepOldPartials(join(this.dir, 'tmp'));
  }

  /**
   * Removes the temp files of blob `id` that a writer killed mid-write left
   * (the age sweep of init() spares them while they are young). Call it
   * holding the blob's lock: only the holder writes the part record and the
   * ref of `id`, so any temp of theirs is a dead writer's. A blob's sidecar
   * is also rewritten by warm checks outside the lock, so its temps go only
   * once older than `staleMs`.
   */
  async sweepTempsOf(id: string, sha256: string | undefined, staleMs: number): Promise<void> {
    await sweepTemps(join(this.dir, 'tmp'), `${id}.part`, 0);
    await sweepTemps(join(this.dir, 'refs'), `${id}.json`, 0);
    if (sha256) await sweepTemps(dirname(this.blobPath(sha256)), `${sha256}.json`, staleMs);
  }

  /**
   * True when the blob is present and intact. 'stat' trusts a sidecar whose
   * size, mtime and inode still match (one stat and one small read); without
   * one, or with 'full', the blob is re-hashed and a bad blob is removed.
   */
  async isWarm(sha256: string, verify: 'stat' | 'full', size?: number): Promise<boolean> {
    const path = this.blobPath(sha256);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile() || (size !== undefined && st.size !== size)) return false;
    if (verify === 'stat') {
      const record = await readJson<BlobRecord>(`${path}.json`);
      if (
        record &&
        record.sha256 === sha256 &&
        record.size === st.size &&
        record.ino === st.ino &&
        record.mtimeMs === st.mtimeMs
      ) {
        return true;
      }
    }
    const digest = await digestFile(path);
    if (digest.sha256 !== sha256) {
      await unlink(path).catch(() => undefined);
      await unlink(`${path}.json`).catch(() => undefined);
      return false;
    }
    await this.writeRecord(sha256);
    return true;
  }

  /** Moves a verified file into the cache and records its stat. */
  async commit(tempPath: string, sha256: string): Promise<string> {
    const path = this.blobPath(sha256);
    await mkdir(join(path, '..'), { recursive: true });
    await rename(tempPath, path);
    await this.writeRecord(sha256);
    return path;
  }

  async writeRecord(sha256: string): Promise<void> {
    const path = this.blobPath(sha256);
    const st = await stat(path);
    const record: BlobRecord = { v: 1, sha256, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    await writeJsonAtomic(`${path}.json`, record);
  }

  /**
   * Removes cached blobs, least recently used first, until the cache holds
   * at most maxBytes. Only blobs with no other hard link are candidates (a
   * linked blob frees nothing), never those in `keep` or handed out by this
   * process, and none used in the last RECENT_MS (another loader may have
   * just returned its path).
   */
  async evict(maxBytes: number, keep: Set<string>): Promise<string[]> {
    const root = join(this.dir, 'blobs', 'sha256');
    const blobs: { sha256: string; path: string; size: number; used: number; links: number }[] = [];
    for (const shard of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, shard)).catch(() => [] as string[])) {
        if (!/^[a-f0-9]{64}$/.test(name)) continue;
        const path = join(root, shard, name);
        const st = await stat(path).catch(() => undefined);
        if (st)
          blobs.push({
            sha256: name,
            path,
            size: st.size,
            used: Math.max(st.atimeMs, st.mtimeMs),
            links: st.nlink,
          });
      }
    }
    let total = blobs.reduce((sum, b) => sum + b.size, 0);
    const evicted: string[] = [];
    const recent = Date.now() - RECENT_MS;
    const candidates = blobs
      .filter((b) => !keep.has(b.sha256) && !handedOut.has(b.path) && b.links === 1 && b.used < recent)
      .sort((a, b) => a.used - b.used);
    for (const blob of candidates) {
      if (total <= maxBytes) break;
      await unlink(`${blob.path}.json`).catch(() => undefined);
      await unlink(blob.path).catch(() => undefined);
      total -= blob.size;
      evicted.push(blob.sha256);
    }
    return evicted;
  }

  /**
   * A file placed by copy (the cache on another filesystem) cannot be told
   * apart from any other file by its inode: its own sidecar, kept here and
   * keyed by its path, lets the next boot trust it after one stat instead of
   * re-hashing it. Same rule as a blob's sidecar: size, mtime and inode.
   */
  async isPlacedCopy(target: string, sha256: string): Promise<boolean> {
    const record = await readJson<PlacedRecord>(this.placedPath(target));
    const st = await stat(target).catch(() => undefined);
    return (
      record?.v === 1 &&
      record.path === target &&
      record.sha256 === sha256 &&
      st !== undefined &&
      record.size === st.size &&
      record.ino === st.ino &&
      record.mtimeMs === st.mtimeMs
    );
  }

  async recordPlacedCopy(target: string, sha256: string): Promise<void> {
    const st = await stat(target);
    const record: PlacedRecord = {
      v: 1,
      path: target,
      sha256,
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
    };
    await mkdir(join(this.dir, 'placed'), { recursive: true });
    await writeJsonAtomic(this.placedPath(target), record);
  }

  private placedPath(target: string): string {
    return join(this.dir, 'placed', `${createHash('sha256').update(target).digest('hex').slice(0, 40)}.json`);
  }

  async readRef(identity: string): Promise<SourceRef | undefined> {
    const ref = await readJson<SourceRef>(join(this.dir, 'refs', `${this.refId(identity)}.json`));
    return ref?.v === 1 && ref.identity === identity ? ref : undefined;
  }

  async writeRef(ref: SourceRef): Promise<void> {
    await writeJsonAtomic(join(this.dir, 'refs', `${this.refId(ref.identity)}.json`), ref);
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Unique temp, fsync, rename: a reader sees the old record or the new one, never half. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value), TEMP_MARKER);
}

/** Removes the unique temp files in `dir` named `prefix…`, those older than `minAgeMs` (a live writer's temp is younger). */
async function sweepTemps(dir: string, prefix: string, minAgeMs: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.includes(TEMP_MARKER)) continue;
    const path = join(dir, name);
    const st = minAgeMs > 0 ? await stat(path).catch(() => undefined) : undefined;
    if (minAgeMs === 0 || (st && now - st.mtimeMs > minAgeMs)) await unlink(path).catch(() => undefined);
  }
}

/** Partial downloads nobody resumed for a day belong to objects no longer wanted. */
const ABANDONED_MS = 24 * 60 * 60 * 1000;

async function sweepOldPartials(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.endsWith('.part') && !name.endsWith('.part.json')) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > ABANDONED_MS) await unlink(path).catch(() => undefined);
  }
}
