import type { Readable } from 'node:stream';
import { StowageError } from '../core/errors.js';

/** What a source says about the object, and what every ranged read is pinned to. */
export interface RemoteMeta {
  size: number;
  etag?: string;
  lastModified?: string;
  /** Hex sha256, when the source knows it (stowage's own stores often do). */
  sha256?: string;
  /** False when the source cannot (or will not) serve byte ranges. */
  acceptsRanges: boolean;
}

export interface RemoteBody {
  body: Readable;
  /** The inclusive range served; undefined when the whole object came back. */
  range?: { start: number; end: number };
}

/** One object somewhere: a Storage key or an http(s) URL. */
export interface Remote {
  /** Printable name: no credentials, no signature, no query string. */
  readonly label: string;
  /** Stable identity for the cache index (no secrets; hashed before use). */
  readonly identity: string;
  /** True when the identity names one version forever (a commit-pinned file): its cache ref is trusted without a probe. */
  readonly immutable?: boolean;
  probe(signal?: AbortSignal): Promise<RemoteMeta>;
  /** Reads the object or a range of it; throws ObjectChangedError when it no longer matches `pin`. */
  open(
    range: { start: number; end: number } | undefined,
    pin: RemoteMeta,
    signal?: AbortSignal,
  ): Promise<RemoteBody>;
}

/** The object was replaced since the download started: restart rather than mix versions. */
export class ObjectChangedError extends StowageError {
  constructor(label: string, detail: string) {
    super('UNAVAILABLE', `${label} changed during the download (${detail}); restarting`, { retryable: true });
  }
}

/** The server answered a range request with the whole object. */
export class RangeIgnoredError extends StowageError {
  constructor(label: string) {
    super('NOT_SUPPORTED', `${label}: the server ignored a Range request (200 instead of 206)`);
  }
}

/** True when an ETag is strong (usable with If-Match). */
export function isStrongEtag(etag: string | undefined): etag is string {
  return typeof etag === 'string' && etag.length > 0 && !etag.startsWith('W/');
}
