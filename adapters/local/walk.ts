import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys } from '../../src/util/ordering.js';
import { isRealDirectory, RESERVED_PREFIX, type SafeRoot } from './safe-root.js';

/** A key found by the walk, with the path of the directory holding it. */
export interface WalkedKey {
  key: string;
  /** The key's directory: under the root through real directories only. */
  dir: string;
  /** The file's name inside `dir` (the key's last segment). */
  name: string;
}

/**
 * Yields the keys of regular files under the root in UTF-8 byte order of the
 * full key, restricted to `prefix` and to keys after `startAfter`. A
 * directory sorts as its name plus "/", which makes a depth-first walk come
 * out in the same order S3 lists in. Symlinks and reserved names are skipped.
 * Each directory is checked once, on the way in, so callers can read the
 * files without checking the path again per key.
 */
export async function* walkKeys(
  safe: SafeRoot,
  prefix: string,
  startAfter: string | undefined,
): AsyncGenerator<WalkedKey> {
  yield* walkDir(await safe.real(), '', prefix, startAfter);
}

async function* walkDir(
  dir: string,
  dirKey: string,
  prefix: string,
  startAfter: string | undefined,
): AsyncGenerator<WalkedKey> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // Removed while listing, or not a directory: nothing under it.
  }
  // Dirent types come from lstat, so a symlink (to a file or a directory) is neither and is dropped here.
  const items = entries
    .filter((e) => !e.name.startsWith(RESERVED_PREFIX) && (e.isFile() || e.isDirectory()))
    .map((e) => ({
      name: e.name,
      isDir: e.isDirectory(),
      sortKey: dirKey + e.name + (e.isDirectory() ? '/' : ''),
    }))
    .sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const item of items) {
    const key = dirKey + item.name;
    if (item.isDir) {
      const subtree = `${key}/`;
      const overlapsPrefix = subtree.startsWith(prefix) || prefix.startsWith(subtree);
      // Every key under `subtree` sorts before startAfter unless startAfter lies inside it.
      const allBefore =
        startAfter !== undefined && compareKeys(subtree, startAfter) < 0 && !startAfter.startsWith(subtree);
      if (overlapsPrefix && !allBefore) {
        // It was a directory when read, but may have been swapped for a symlink since.
        const path = join(dir, item.name);
        if (await isRealDirectory(path)) yield* walkDir(path, subtree, prefix, startAfter);
      }
    } else if (key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0)) {
      yield { key, dir, name: item.name };
    }
  }
}
