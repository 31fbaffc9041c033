import { isAbsolute, join, resolve } from 'node:path';
import type { Storage } from '../core/types.js';
import { MANIFEST_FILE, type Manifest, readManifest } from '../loader/manifest.js';
import { checkStorageAccess, manifestUrl, openStorage, resolveStorageUrl } from './storage-target.js';

export interface ManifestSourceOptions {
  cwd?: string;
  /** Manifest path, relative to cwd (default stowage.lock.json). */
  manifest?: string;
  /** Storage URL overriding the manifest's (credentials may come from the environment instead). */
  from?: string;
  /** A ready Storage, overriding both. */
  storage?: Storage;
  env?: NodeJS.ProcessEnv;
}

export interface ManifestSource {
  cwd: string;
  manifest: Manifest;
  /** Undefined when no entry needs one (each reads from its own pinned source) and none was given. */
  storage: Storage | undefined;
  /** The storage actually used (`from`, else the manifest's), without credentials. */
  url: string;
}

/**
 * The manifest and the storage its keys live in, opened and, unless
 * `checkAccess` is false, asked once whether it is reachable: a missing
 * bucket or refused credentials fail here (exit 3), not once per file.
 */
export async function openManifestSource(
  options: ManifestSourceOptions,
  { checkAccess = true }: { checkAccess?: boolean } = {},
): Promise<ManifestSource> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = options.manifest ?? MANIFEST_FILE;
  const manifest = await readManifest(isAbsolute(file) ? file : join(cwd, file));
  if (options.storage) return { cwd, manifest, storage: options.storage, url: manifest.storage };
  // Every entry reads from its own pinned source: no storage to open. An empty lock naming a storage still opens it.
  const noKeys = manifest.files.every((e) => e.key === undefined);
  if (options.from === undefined && noKeys && (!manifest.storage || manifest.files.length > 0)) {
    return { cwd, manifest, storage: undefined, url: manifest.storage };
  }
  const given = options.from ?? manifest.storage;
  const url = manifestUrl(given);
  const config = resolveStorageUrl(
    given,
    options.env ?? process.env,
    options.from ? 'options.from' : `storage of ${file}`,
  );
  const storage = await openStorage(config, url);
  if (checkAccess) await checkStorageAccess(storage, url);
  return { cwd, manifest, storage, url };
}
