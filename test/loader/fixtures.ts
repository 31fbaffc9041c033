import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLogger } from '../../src/util/log.js';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function tempDir(prefix = 'stowage-loader-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes by temp + rename: a new inode, so the HTTP server gives it a new ETag. */
export async function replaceFile(path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.new`;
  await writeFile(temp, data);
  await rename(temp, path);
}

export function blob(size: number): { data: Buffer; sha256: string } {
  const data = randomBytes(size);
  return { data, sha256: sha256(data) };
}

/** Captures stowage log lines for assertions. */
export function captureLogs(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  setLogger({ info: (m) => lines.push(m), warn: (m) => lines.push(m) });
  return {
    lines,
    restore: () => setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) }),
  };
}

export { mountTmpfs, unmount } from '../helpers/small-disk.js';
