import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { digestFile } from '../core/integrity.js';
import { WHOLE_FILE_LIMIT } from './file-body.js';
import type { AppFile } from './repo-files.js';

/** Where the hash cache lives, relative to the app directory (never deployed, never committed). */
export const HASH_CACHE_FILE = 'node_modules/.cache/stowage/migrate-state.json';

interface CacheRecord {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/**
 * sha256 of local files, remembered by path + size + mtime + inode so a
 * re-run hashes only what changed (the `stat` is the whole cost of a hit);
 * and, per storage URL, the keys this machine uploaded and verified (or saw
 * listed), so a re-run with nothing changed asks storage nothing.
 */
export class HashCache {
  private records = new Map<string, CacheRecord>();
  private confirmed = new Map<string, Map<string, string>>();
  private dirty = false;

  private constructor(private readonly file: string) {}

  static async open(dir: string): Promise<HashCache> {
    const cache = new HashCache(join(dir, HASH_CACHE_FILE));
    try {
      const raw = JSON.parse(await readFile(cache.file, 'utf8')) as { v?: number; files?: unknown };
      if (raw.v === 1 && raw.files && typeof raw.files === 'object') {
        for (const [path, record] of Object.entries(raw.files as Record<string, CacheRecord>)) {
          if (isRecord(record)) cache.records.set(path, record);
        }
      }
      const stored = (raw as { stored?: Record<string, Record<string, string>> }).stored;
      if (stored && typeof stored === 'object') {
        for (const [url, keys] of Object.entries(stored)) {
          if (keys && typeof keys === 'object') cache.confirmed.set(url, new Map(Object.entries(keys)));
        }
      }
    } catch {
      // Missing or unreadable cache: start empty, hashing is the fallback.
    }
    return cache;
  }

  /** The cached sha256 when the file is unchanged, else undefined. */
  lookup(file: AppFile): string | undefined {
    const r = this.records.get(file.path);
    return r && r.size === file.size && r.mtimeMs === file.mtimeMs && r.ino === file.ino
      ? r.sha256
      : undefined;
  }

  remember(file: AppFile, sha256: string): void {
    this.records.set(file.path, { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino, sha256 });
    this.dirty = true;
  }

  /** True when `key` was uploaded and verified (or found) with this content in the storage at `url`. */
  isStored(url: string, key: string, sha256: string): boolean {
    return this.confirmed.get(url)?.get(key) === sha256;
  }

  markStored(url: string, key: string, sha256: string): void {
    const keys = this.confirmed.get(url) ?? new Map<string, string>();
    this.confirmed.set(url, keys);
    if (keys.get(key) === sha256) return;
    keys.set(key, sha256);
    this.dirty = true;
  }

  /** Cached hash, or hash the file now (and remember it). `hashed` tells which. */
  async digest(dir: string, file: AppFile): Promise<{ sha256: string; hashed: boolean }> {
    const cached = this.lookup(file);
    if (cached) return { sha256: cached, hashed: false };
    const { sha256, size } = await digestOf(join(dir, file.path), file.size);
    // A file that changed while hashing is not cached: its stat no longer describes the bytes.
    if (size === file.size) this.remember(file, sha256);
    return { sha256, hashed: true };
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    const temp = `${this.file}.${randomUUID()}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      const stored = Object.fromEntries(
        [...this.confirmed].map(([url, keys]) => [url, Object.fromEntries(keys)]),
      );
      await writeFile(temp, JSON.stringify({ v: 1, files: Object.fromEntries(this.records), stored }));
      await rename(temp, this.file);
      this.dirty = false;
    } catch {
      // A cache that cannot be written only costs a re-hash next time.
      await unlink(temp).catch(() => undefined);
    }
  }
}

async function digestOf(path: string, expectedSize: number): Promise<{ sha256: string; size: number }> {
  if (expectedSize > WHOLE_FILE_LIMIT) return digestFile(path);
  const data = await readFile(path);
  return { sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}

function isRecord(value: unknown): value is CacheRecord {
  const r = value as CacheRecord;
  return (
    !!r &&
    typeof r.size === 'number' &&
    typeof r.mtimeMs === 'number' &&
    typeof r.ino === 'number' &&
    typeof r.sha256 === 'string'
  );
}
