import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface NodeModulesWeight {
  bytes: number;
  /** True when dev dependencies were left out (known from npm's lockfile). */
  productionOnly: boolean;
  packages: number;
  /** Heaviest packages, biggest first. */
  largest: { name: string; bytes: number }[];
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

/**
 * Weight of node_modules as the platform installs it: production
 * dependencies only when npm's lockfile says which are dev, else all of it.
 * Undefined when there is no node_modules.
 */
export async function nodeModulesWeight(dir: string, top = 10): Promise<NodeModulesWeight | undefined> {
  const root = join(dir, 'node_modules');
  try {
    if (!(await lstat(root)).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const lock =
    (await readLockPackages(join(root, '.package-lock.json'))) ??
    (await readLockPackages(join(dir, 'package-lock.json')));
  const sizes: { name: string; bytes: number }[] = [];
  if (lock) {
    for (const [path, pkg] of Object.entries(lock)) {
      if (!path.startsWith('node_modules/') || pkg.link || pkg.dev || pkg.devOptional) continue;
      const bytes = await folderBytes(join(dir, path), true);
      sizes.push({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), bytes });
    }
  } else {
    sizes.push({ name: 'node_modules', bytes: await folderBytes(root, false) });
  }
  const largest = lock ? [...sizes].sort((a, b) => b.bytes - a.bytes).slice(0, top) : [];
  return {
    bytes: sizes.reduce((sum, s) => sum + s.bytes, 0),
    productionOnly: lock !== undefined,
    packages: lock ? sizes.length : 0,
    largest,
  };
}

async function readLockPackages(file: string): Promise<Record<string, LockPackage> | undefined> {
  try {
    const lock = JSON.parse(await readFile(file, 'utf8')) as { packages?: Record<string, LockPackage> };
    return lock.packages && typeof lock.packages === 'object' ? lock.packages : undefined;
  } catch {
    return undefined;
  }
}

/** Apparent size of every file under `path`; nested node_modules are separate packages when `skipNested`. */
async function folderBytes(path: string, skipNested: boolean): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      if (!(skipNested && entry.name === 'node_modules')) total += await folderBytes(child, skipNested);
    } else {
      try {
        total += (await lstat(child)).size;
      } catch {
        // Vanished while walking: not part of the weight.
      }
    }
  }
  return total;
}
