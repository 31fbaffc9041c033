import { type StorageConfig, storageUrlOf } from '../config/registry.js';
import { type ResolvedConfig, resolveStorageConfig } from '../config/resolve.js';
import { createStorageFrom } from '../create-storage.js';
import { isStowageError, StowageError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { Storage } from '../types.js';
import { StorageSetupError, UsageError } from './exit-codes.js';

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
    throw new UsageError(
      'no storage configured: pass --to <storage-url> (e.g. s3://bucket/assets) or set STOWAGE_URL',
    );
  }
  const url = manifestUrl(to ?? env.STOWAGE_URL ?? storageUrlOf(config));
  return { url, open: () => openStorage(config, url) };
}

/** resolveStorageConfig(), its refusals (a bad URL, an unknown parameter) being usage errors: exit 2. */
export function resolveStorageUrl(
  url: string | undefined,
  env: NodeJS.ProcessEnv,
  what: string,
): ResolvedConfig {
  try {
    return resolveStorageConfig(url, env);
  } catch (err) {
    throw new UsageError(`${what}: ${messageOf(err)}`);
  }
}

/**
 * Builds the Storage of `config`. A value its adapter refuses is a usage
 * error (exit 2); an adapter that cannot load (its SDK not installed) is a
 * storage setup error (exit 3), with the message naming what to install.
 */
export async function openStorage(config: StorageConfig, url: string): Promise<Storage> {
  try {
    return await createStorageFrom(config);
  } catch (err) {
    if (isStowageError(err, 'INVALID_ARGUMENT'))
      throw new UsageError(`storage ${redactUrl(url)}: ${err.message}`);
    throw new StorageSetupError(`storage ${redactUrl(url)}: ${messageOf(err)}`);
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
      throw new StorageSetupError(`${where}: the bucket does not exist; create it or fix the URL`);
    }
    // Stays ACCESS_DENIED (exit 3); the adapter's message says where credentials are read from.
    if (isStowageError(err, 'ACCESS_DENIED')) {
      throw new StowageError('ACCESS_DENIED', `${where}: ${err.message}`, { cause: err });
    }
    if (isStowageError(err, 'NOT_SUPPORTED')) return;
    throw new StorageSetupError(`${where}: not reachable (${messageOf(err)})`);
  }
}

function messageOf(err: unknown): string {
  if (err instanceof StowageError || err instanceof Error) return err.message;
  return String(err);
}
