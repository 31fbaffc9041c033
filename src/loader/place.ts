import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TEMP_MARKER } from './cache.js';
import { diskError } from './disk.js';

/**
 * Puts the blob at `target` atomically: a hard link (no bytes copied) to a
 * unique temp name beside the target, then rename over it; across
 * filesystems (EXDEV) or where links are refused, a copy, fsynced.
 */
export async function placeBlob(blobPath: string, target: string): Promise<'link' | 'copy'> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `${TEMP_MARKER}${randomUUID()}`);
  let how: 'link' | 'copy' = 'link';
  try {
    try {
      await link(blobPath, temp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
      how = 'copy';
      await copyFile(blobPath, temp);
      const handle = await open(temp, 'r+');
      await handle.sync().finally(() => handle.close());
    }
    await rename(temp, target);
    return how;
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw diskError(err, target);
  }
}

/** True when target and blob are the same file (a link made by an earlier run). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return !!x && !!y && x.ino === y.ino && x.dev === y.dev;
}
