import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys } from '../../src/ordering.js';
import { RESERVED_PREFIX } from './safe-root.js';

/**
 * Yields the keys of regular files under `dir` in UTF-8 byte order of the
 * full key, restricted to `prefix` and to keys after `startAfter`. A
 * directory sorts as its name plus "/", which makes a depth-first walk come
 * out in the same order S3 lists in. Symlinks and reserved names are skipped.
 */
export async function* walkKeys(
  dir: string,
  dirKey: string,
  prefix: string,
  startAfter: string | undefined,
): AsyncGenerator<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // Removed while listing, or not a directory: nothing under it.
  }
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
      if (overlapsPrefix && !allBefore) yield* walkKeys(join(dir, item.name), subtree, prefix, startAfter);
    } else if (key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0)) {
      yield key;
    }
  }
}
