import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RESERVED_PREFIX } from './safe-root.js';

/**
 * What the local adapter keeps beside each file, as JSON in
 * `.stowage.<name>.json`. `ino` ties the record to the exact file it
 * describes: a record whose inode differs (a cross-process race, or a file
 * replaced by hand) is ignored rather than trusted.
 */
export interface SidecarRecord {
  v: 1;
  ino: number;
  size: number;
  sha256: string;
  contentType?: string;
  metadata: Record<string, string>;
  cacheControl?: string;
  contentDisposition?: string;
}

export function sidecarPath(dataPath: string): string {
  return join(dirname(dataPath), `${RESERVED_PREFIX}.${basename(dataPath)}.json`);
}

export async function readSidecar(
  dataPath: string,
  ino: number,
  size: number,
): Promise<SidecarRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(sidecarPath(dataPath), 'utf8')) as SidecarRecord;
    return record.v === 1 && record.ino === ino && record.size === size ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the record to a temp file (fsynced) and returns a function that renames it into place. */
export async function stageSidecar(
  dataPath: string,
  tempPath: string,
  record: SidecarRecord,
): Promise<() => Promise<void>> {
  const handle = await open(tempPath, 'wx', 0o644);
  try {
    await handle.writeFile(JSON.stringify(record));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return () => rename(tempPath, sidecarPath(dataPath));
}

export async function removeSidecar(dataPath: string): Promise<void> {
  await unlink(sidecarPath(dataPath)).catch(() => undefined);
}
