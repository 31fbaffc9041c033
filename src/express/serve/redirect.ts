import { LRUCache } from 'lru-cache';
import type { Storage, UrlOptions } from '../../core/types.js';

interface CachedUrl {
  url: string;
  /** Date.now() after which this URL is no longer handed out. */
  reuseUntil: number;
}

/**
 * URLs from storage.url(), reused until shortly before they expire: a
 * signed URL is handed out while at least max(30 s, 20 %) of its life
 * remains, so a client never receives one about to die. Unsigned (public
 * or CDN) URLs are reused for `unsignedTtlMs`.
 */
export class UrlCache {
  private readonly urls = new LRUCache<string, CachedUrl>({ max: 10_000 });

  constructor(
    private readonly storage: Storage,
    private readonly expiresIn: number | undefined,
    private readonly unsignedTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string, download: string | true | undefined): Promise<string> {
    const cacheKey = `${download === undefined ? '' : `${String(download)}\u0000`}${key}`;
    const cached = this.urls.get(cacheKey);
    if (cached && this.now() < cached.reuseUntil) return cached.url;
    const options: UrlOptions = {};
    if (this.expiresIn !== undefined) options.expiresIn = this.expiresIn;
    if (download !== undefined) options.download = download;
    const issuedAt = this.now();
    const url = await this.storage.url(key, options);
    const reuseMs =
      this.expiresIn === undefined
        ? this.unsignedTtlMs
        : this.expiresIn * 1000 - Math.max(30_000, this.expiresIn * 200);
    if (reuseMs > 0) this.urls.set(cacheKey, { url, reuseUntil: issuedAt + reuseMs });
    return url;
  }
}
