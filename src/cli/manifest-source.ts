import { isAbsolute, join, resolve } from 'node:path';
import { createStorage } from '../create-storage.js';
import { MANIFEST_FILE, type Manifest, readManifest } from '../manifest.js';
import type { Storage } from '../types.js';
import { UsageError } from './exit-codes.js';

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

/** The manifest and the storage its keys live in. */
export async function openManifestSource(
  options: ManifestSourceOptions,
): Promise<{ cwd: string; manifest: Manifest; storage: Storage }> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = options.manifest ?? MANIFEST_FILE;
  const manifest = await readManifest(isAbsolute(file) ? file : join(cwd, file));
  if (options.storage) return { cwd, manifest, storage: options.storage };
  const url = options.from ?? manifest.storage;
  try {
    return { cwd, manifest, storage: await createStorage(url, options.env ?? process.env) };
  } catch (err) {
    throw new UsageError(
      `cannot open the storage ${options.from ? '--from' : `of ${file}`}: ${(err as Error).message}`,
    );
  }
}
