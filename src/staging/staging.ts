import { randomUUID } from 'node:crypto';
import { StowageError } from '../core/errors.js';
import type { ObjectInfo, Storage } from '../core/types.js';

export const DEFAULT_STAGING_PREFIX = '.staging';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A fresh staging key: `<prefix>/<uuid>`. */
export function newStagingKey(stagingPrefix: string): string {
  return stagingPrefix ? `${stagingPrefix}/${randomUUID()}` : randomUUID();
}

/** True for keys this module could have issued: exactly `<prefix>/<uuid>`, nothing else. */
export function isStagingKey(key: unknown, stagingPrefix: string): key is string {
  if (typeof key !== 'string') return false;
  const lead = stagingPrefix ? `${stagingPrefix}/` : '';
  return key.startsWith(lead) && UUID.test(key.slice(lead.length));
}

export interface PromoteOptions {
  contentType?: string;
  size: number;
  sha256?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Write the final object from a read even when the backend copies (to change its content type). */
  rewrite?: boolean;
}

/**
 * Moves a checked staged object to its final key: copy then delete where
 * the backend copies, else one more put from a read. Either way the final
 * key only ever receives a complete, verified object.
 */
export async function promote(
  storage: Storage,
  stagingKey: string,
  finalKey: string,
  opts: PromoteOptions,
): Promise<ObjectInfo> {
  let info: ObjectInfo;
  if (storage.capabilities.copy && !opts.rewrite) {
    info = await storage.copy(stagingKey, finalKey);
  } else {
    const { body } = await storage.get(stagingKey, opts.signal ? { signal: opts.signal } : {});
    info = await storage.put(finalKey, body, {
      size: opts.size,
      ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
      ...(opts.contentType ? { contentType: opts.contentType } : {}),
      ...(opts.metadata ? { metadata: opts.metadata } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }
  if (info.size !== opts.size) {
    // Whatever landed there is not the checked file: it must not stay at the final key.
    await discard(storage, finalKey);
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `"${finalKey}" holds ${info.size} bytes after the move, expected ${opts.size}`,
    );
  }
  await discard(storage, stagingKey);
  return info;
}

/** Deletes a staged object, never throwing: the sweeper catches what this misses. */
export async function discard(storage: Storage, key: string): Promise<void> {
  try {
    await storage.delete(key);
  } catch {
    // Best effort by design; sweepStaged() removes leftovers later.
  }
}
