import { randomUUID } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Replaces a file's content all at once: a temp file beside it, fsynced,
 * renamed over it. An interrupted run leaves the old file or the new one,
 * never half of either, and no temp file behind on failure.
 */
export async function writeFileAtomic(path: string, text: string, tempMarker = '.tmp-'): Promise<void> {
  const temp = `${path}${tempMarker}${randomUUID()}`;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
