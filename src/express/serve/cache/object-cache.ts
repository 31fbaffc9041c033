import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { isStowageError, StowageError } from '../../../core/errors.js';
import type { ObjectInfo, Storage } from '../../../core/types.js';
import { log } from '../../../util/log.js';
import { type DiskEntry, DiskTier, type DiskTierOptions } from './disk-tier.js';
import { MemoryTier, type MemoryTierOptions } from './memory-tier.js';
import { SingleFlight } from './single-flight.js';

/** Where the bytes of an object can be read from right now. */
export type CachedObject =
  | { tier: 'memory'; info: ObjectInfo; data: Buffer }
  | { tier: 'disk'; info: ObjectInfo; entry: DiskEntry }
  /** Too large for the tiers (or tiers off): stream from the origin with a ranged get(). */
  | { tier: 'origin'; info: ObjectInfo };

export interface ObjectCacheOptions {
  memory: MemoryTierOptions | false;
  disk: DiskTierOptions | false;
  /** Milliseconds a cached version is trusted before asking the origin (head + ETag compare). */
  revalidateAfterMs: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ObjectCacheStats {
  memory: { bytes: number; entries: number; maxBytes: number } | undefined;
  disk: { bytes: number; entries: number; maxBytes: number } | undefined;
}

interface Known {
  info: ObjectInfo;
  checkedAt: number;
}

/**
 * Read-through cache in front of a Storage: small objects in memory,
 * larger ones on local disk, the rest streamed from the origin. A cached
 * version is revalidated by ETag after a TTL; concurrent misses and
 * revalidations for one key share one origin request.
 */
export class ObjectCache {
  readonly memory: MemoryTier | undefined;
  readonly disk: DiskTier | undefined;
  private readonly ttl: number;
  private readonly now: () => number;
  /** Versions of objects too large for the tiers, so conditionals and ranges need no extra round trip. */
  private readonly large = new LRUCache<string, Known>({ max: 10_000 });
  private readonly fills = new SingleFlight<CachedObject>();
  private readonly revalidations = new SingleFlight<CachedObject | undefined>();
  private readonly memoryMax: number;
  private readonly diskMax: number;
  /** Bytes of memory fills still reading from the origin: kept within memoryMax too. */
  private memoryFilling = 0;

  constructor(
    private readonly storage: Storage,
    options: ObjectCacheOptions,
  ) {
    this.memory = options.memory ? new MemoryTier(options.memory) : undefined;
    this.disk = options.disk ? new DiskTier(options.disk) : undefined;
    this.memoryMax = options.memory ? options.memory.maxBytes : 0;
    this.diskMax = options.disk ? options.disk.maxBytes : 0;
    this.ttl = options.revalidateAfterMs;
    this.now = options.now ?? Date.now;
  }

  /** Where to read `key` from; fetches it into a tier on a miss. Throws the origin's StowageError. */
  async lookup(key: string): Promise<CachedObject> {
    const hit = this.peek(key);
    if (hit) {
      if (this.now() - hit.known.checkedAt < this.ttl) return hit.object;
      const current = await this.revalidations.run(key, () => this.revalidate(key, hit));
      if (current) return current;
    }
    return this.fills.run(key, () => this.fill(key));
  }

  /** Metadata only (HEAD): a cached version if there is one, else a head() that caches nothing. */
  async info(key: string): Promise<CachedObject> {
    const hit = this.peek(key);
    if (hit && this.now() - hit.known.checkedAt < this.ttl) return hit.object;
    if (hit) {
      const current = await this.revalidations.run(key, () => this.revalidate(key, hit));
      if (current) return current;
    }
    return { tier: 'origin', info: await this.storage.head(key) };
  }

  /** Forgets every cached version of `key` (e.g. the origin answered with another ETag). */
  invalidate(key: string): void {
    this.memory?.delete(key);
    this.disk?.delete(key);
    this.large.delete(key);
  }

  stats(): ObjectCacheStats {
    return {
      memory: this.memory
        ? { bytes: this.memory.bytes, entries: this.memory.entries, maxBytes: this.memoryMax }
        : undefined,
      disk: this.disk
        ? { bytes: this.disk.bytes, entries: this.disk.entries, maxBytes: this.diskMax }
        : undefined,
    };
  }

  /** Drops the memory tier and deletes the disk tier's files. */
  async close(): Promise<void> {
    this.memory?.clear();
    this.large.clear();
    await this.disk?.close();
  }

  private peek(key: string): { object: CachedObject; known: Known } | undefined {
    const inMemory = this.memory?.get(key);
    if (inMemory)
      return { object: { tier: 'memory', info: inMemory.info, data: inMemory.data }, known: inMemory };
    const onDisk = this.disk?.get(key);
    if (onDisk) return { object: { tier: 'disk', info: onDisk.info, entry: onDisk }, known: onDisk };
    const large = this.large.get(key);
    if (large) return { object: { tier: 'origin', info: large.info }, known: large };
    return undefined;
  }

  private async revalidate(
    key: string,
    hit: { object: CachedObject; known: Known },
  ): Promise<CachedObject | undefined> {
    let current: ObjectInfo;
    try {
      current = await this.storage.head(key);
    } catch (err) {
      if (isStowageError(err, 'NOT_FOUND')) {
        this.invalidate(key);
        throw err;
      }
      if (isStowageError(err) && err.retryable) {
        // The origin is briefly away: a slightly stale object beats an error page.
        log.warn(`serving a cached copy of "${key}": revalidation failed (${err.code})`);
        return hit.object;
      }
      throw err;
    }
    if (sameVersion(hit.object.info, current)) {
      hit.known.checkedAt = this.now();
      return hit.object;
    }
    this.invalidate(key);
    return undefined;
  }

  private async fill(key: string): Promise<CachedObject> {
    const checkedAt = this.now();
    if (!this.memory && !this.disk) return { tier: 'origin', info: await this.storage.head(key) };
    const { info, body } = await this.storage.get(key);
    try {
      const small = this.memory?.fits(info.size) === true;
      // Many misses at once (distinct keys) must not buffer more than the tier may hold.
      if (this.memory && small && this.memoryFilling + info.size <= this.memoryMax) {
        this.memoryFilling += info.size;
        try {
          const data = await readExactly(body, info.size, key);
          this.disk?.delete(key);
          this.large.delete(key);
          this.memory.set(key, { info, data, checkedAt });
          return { tier: 'memory', info, data };
        } finally {
          this.memoryFilling -= info.size;
        }
      }
      if (small && !this.disk?.fits(info.size)) {
        // Over the in-flight budget right now: stream this one from the origin, cache it next time.
        body.destroy();
        return { tier: 'origin', info };
      }
      if (this.disk?.fits(info.size)) {
        const entry = await this.disk.store(key, body, info, checkedAt);
        if (entry) {
          this.memory?.delete(key);
          this.large.delete(key);
          return { tier: 'disk', info, entry };
        }
        // No room right now (other writes in flight): stream this one from the origin.
        body.destroy();
        return { tier: 'origin', info };
      }
    } catch (err) {
      body.destroy();
      throw err;
    }
    body.destroy();
    this.memory?.delete(key);
    this.disk?.delete(key);
    this.large.set(key, { info, checkedAt });
    return { tier: 'origin', info };
  }
}

/** Same version when the ETags match; without ETags, same size and modification time. */
export function sameVersion(a: ObjectInfo, b: ObjectInfo): boolean {
  if (a.etag && b.etag) return a.etag === b.etag;
  return a.size === b.size && a.lastModified?.getTime() === b.lastModified?.getTime();
}

async function readExactly(body: Readable, size: number, key: string): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size);
  let offset = 0;
  let overflow = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (offset + chunk.length > size) {
      overflow = true;
      break;
    }
    chunk.copy(data, offset);
    offset += chunk.length;
  }
  if (overflow || offset !== size) {
    body.destroy();
    throw new StowageError(
      'UNAVAILABLE',
      `the origin sent a different number of bytes than the ${size} announced for "${key}"; it may have changed mid-read`,
      { key, retryable: true },
    );
  }
  return data;
}
