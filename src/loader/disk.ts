import { statfs } from 'node:fs/promises';
import { StowageError } from '../core/errors.js';
import { formatBytes } from '../util/bytes.js';

/** A clear error for a full disk, with what to do about it. */
export function diskError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return err;
  return new StowageError(
    'DISK_FULL',
    `no space left on the disk holding ${path}; free space, or set STOWAGE_CACHE_DIR to a larger disk`,
    { cause: err },
  );
}

/** Fails before downloading when the cache's disk cannot hold `needed` bytes plus `reserve`. */
export async function checkFreeSpace(
  dir: string,
  needed: number,
  reserve: number,
  label: string,
): Promise<void> {
  let free: number;
  try {
    const fs = await statfs(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // statfs unsupported here: the write itself will report ENOSPC clearly
  }
  if (free - reserve < needed) {
    const keep = reserve > 0 ? ` while keeping ${formatBytes(reserve)} free` : '';
    throw new StowageError(
      'DISK_FULL',
      `not enough disk space for ${label}: it needs ${formatBytes(needed)}${keep}, but ${dir} has ${formatBytes(free)} free; free space, or set STOWAGE_CACHE_DIR to a larger disk`,
    );
  }
}
