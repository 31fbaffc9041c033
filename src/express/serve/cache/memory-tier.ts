import { LRUCache } from 'lru-cache';
import type { ObjectInfo } from '../../../core/types.js';

export interface MemoryEntry {
  info: ObjectInfo;
  data: Buffer;
  /** Date.now() when the origin last confirmed this version. */
  checkedAt: number;
}

export interface MemoryTierOptions {
  /** Total bytes held (object bytes plus a fixed per-entry overhead). */
  maxBytes: number;
  /** Largest single object kept in memory. */
  maxObjectBytes: number;
}

/** Bookkeeping cost charged per entry, so 10,000 tiny objects cannot outgrow the bound. */
const ENTRY_OVERHEAD = 256;

/** Hot small objects in an LRU bounded in bytes. */
export class MemoryTier {
  readonly maxObjectBytes: number;
  private readonly lru: LRUCache<string, MemoryEntry>;

  constructor(options: MemoryTierOptions) {
    this.maxObjectBytes = Math.min(options.maxObjectBytes, Math.max(0, options.maxBytes - ENTRY_OVERHEAD));
    this.lru = new LRUCache<string, MemoryEntry>({
      maxSize: options.maxBytes,
      maxEntrySize: options.maxBytes,
      sizeCalculation: (entry, key) => entry.data.length + Buffer.byteLength(key) + ENTRY_OVERHEAD,
    });
  }

  /** True when an object of this size belongs in this tier. */
  fits(size: number): boolean {
    return size <= this.maxObjectBytes;
  }

  get(key: string): MemoryEntry | undefined {
    return this.lru.get(key);
  }

  set(key: string, entry: MemoryEntry): void {
    this.lru.set(key, entry);
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Bytes currently charged against maxBytes. */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get entries(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}
