import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * Files up to this size are read whole: one read instead of a stream of
 * 64 KiB chunks. Memory stays bounded by the pool: concurrency × this.
 */
export const WHOLE_FILE_LIMIT = 8 * 1024 * 1024;

/** The file's bytes as an upload body: a Buffer when small, else a stream. */
export async function fileBody(path: string, size: number): Promise<Buffer | Readable> {
  return size <= WHOLE_FILE_LIMIT ? readFile(path) : createReadStream(path);
}
