import { createStorageFrom } from '../config/create-storage.js';
import { type StorageConfig, storageUrlOf } from '../config/registry.js';
import { type ResolvedConfig, resolveStorageConfig } from '../config/resolve.js';
import { isStowageError, StowageError } from '../core/errors.js';
import type { Storage } from '../core/types.js';
import { redactUrl } from '../util/redact.js';

export interface StorageTarget {
  /** The storage URL without credentials: what the manifest records and messages show. */
  url: string;
  /** Loads the adapter and builds the Storage; nothing is contacted. */
  open: () => Promise<Storage>;
}

/**
 * The storage a command writes to: `--to`, else STOWAGE_URL and the other
 * variables createStorage() knows. The local-disk fallback is refused:
 * migrating into the app's own ephemeral disk would lose the files.
 * Pure: nothing is loaded or contacted until `open()`.
 */
export function resolveStorageTarget(to: string | undefined, env: NodeJS.ProcessEnv): StorageTarget {
  const config = resolveStorageUrl(to, env, 'storage URL');
  if (to === undefined && config.source.startsWith('default')) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      'no storage configured: pass options.to (a storage URL such as s3://bucket/assets) or set STOWAGE_URL',
    );
  }
  const url = manifestUrl(to ?? env.STOWAGE_URL ?? storageUrlOf(config));
  return { url, open: () => openStorage(config, url) };
}

/** resolveStorageConfig(), its refusals (a bad URL, an unknown parameter) being INVALID_ARGUMENT (CLI exit 2). */
export function resolveStorageUrl(
  url: string | undefined,
  env: NodeJS.ProcessEnv,
  what: string,
): ResolvedConfig {
  try {
    return resolveStorageConfig(url, env);
  } catch (err) {
    throw new StowageError('INVALID_ARGUMENT', `${what}: ${messageOf(err)}`, { cause: err });
  }
}

/**
 * Builds the Storage of `config`, naming the storage in any error: a value
 * its adapter refuses stays INVALID_ARGUMENT (CLI exit 2), an SDK not
 * installed stays NOT_SUPPORTED with the message naming what to install
 * (exit 3); anything else is UNAVAILABLE (exit 3).
 */
export async function openStorage(config: StorageConfig, url: string): Promise<Storage> {
  try {
    return await createStorageFrom(config);
  } catch (err) {
    const code = isStowageError(err) ? err.code : 'UNAVAILABLE';
    throw new StowageError(code, `storage ${redactUrl(url)}: ${messageOf(err)}`, {
      cause: err,
      retryable: false,
    });
  }
}

/**
 * Removes user and password from a URL, and from URLs in its query (an
 * `endpoint=https://user:pass@minio…`): the manifest is committed to git.
 * Everything else (bucket, prefix, region, endpoint host) stays.
 */
export function manifestUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    let changed = withoutUserinfo(parsed);
    for (const [name, value] of [...parsed.searchParams]) {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) continue;
      const inner = new URL(value);
      if (withoutUserinfo(inner)) {
        parsed.searchParams.set(name, inner.toString().replace(/\/$/, value.endsWith('/') ? '/' : ''));
        changed = true;
      }
    }
    return changed ? parsed.toString() : url;
  } catch {
    return redactUrl(url);
  }
}

/** Clears a URL's user and password; true when there were any. */
function withoutUserinfo(url: URL): boolean {
  if (!url.username && !url.password) return false;
  url.username = '';
  url.password = '';
  return true;
}

/**
 * One cheap request before any work, so that a missing bucket or missing or
 * refused credentials fail in the first second, once, with a message saying
 * what to fix (exit 3), instead of once per file.
 */
export async function checkStorageAccess(storage: Storage, url: string): Promise<void> {
  try {
    for await (const _ of storage.list('', { pageSize: 1 })) break;
  } catch (err) {
    const where = `storage ${redactUrl(url)}`;
    if (isStowageError(err, 'NOT_FOUND')) {
      throw new StowageError('UNAVAILABLE', `${where}: the bucket does not exist; create it or fix the URL`, {
        cause: err,
        retryable: false,
      });
    }
    // Stays ACCESS_DENIED (exit 3); the adapter's message says where credentials are read from.
    if (isStowageError(err, 'ACCESS_DENIED')) {
      throw new StowageError('ACCESS_DENIED', `${where}: ${err.message}`, { cause: err });
    }
    if (isStowageError(err, 'NOT_SUPPORTED')) return;
    throw new StowageError('UNAVAILABLE', `${where}: not reachable (${messageOf(err)})`, {
      cause: err,
      retryable: isStowageError(err) && err.retryable,
    });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
