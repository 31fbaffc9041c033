import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { runPool } from './pool.js';
import type { ProgressReporter } from './progress.js';

export interface CompressedEstimate {
  bytes: number;
  /** How the estimate was made, for the report. */
  method: string;
  /** True when only part of each big file was compressed and the ratio extrapolated. */
  sampled: boolean;
}

/** Up to this many bytes in total, every byte is compressed: the estimate is then exact per file. */
export const FULL_COMPRESSION_LIMIT = 64 * 1024 * 1024;
/** Beyond the limit, each file's first bytes stand for the whole file. */
export const SAMPLE_BYTES = 256 * 1024;

/**
 * Estimates the compressed slug size with gzip level 6 (what slug archives
 * use), per file. Small slugs are compressed whole; big ones by sampling
 * the start of each file and scaling its ratio to the file's size.
 */
export async function estimateCompressed(
  dir: string,
  files: { path: string; size: number }[],
  progress?: ProgressReporter,
): Promise<CompressedEstimate> {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const sampled = total > FULL_COMPRESSION_LIMIT;
  let bytes = 0;
  progress?.begin('compressing', total, files.length);
  try {
    await runPool(files, 2, async (file) => {
      const limit = sampled ? Math.min(file.size, SAMPLE_BYTES) : file.size;
      const compressed = limit === 0 ? 20 : await gzipSize(join(dir, file.path), limit);
      bytes += limit === file.size ? compressed : Math.round((compressed / limit) * file.size);
      progress?.fileDone(file.path, file.size, 'compressed');
    });
  } finally {
    progress?.end();
  }
  return {
    bytes,
    sampled,
    method: sampled
      ? `gzip level 6 of the first ${SAMPLE_BYTES / 1024} KiB of each file, ratio extrapolated`
      : 'gzip level 6 of every file',
  };
}

async function gzipSize(path: string, limit: number): Promise<number> {
  let size = 0;
  const counter = new Writable({
    write(chunk: Buffer, _enc, callback) {
      size += chunk.length;
      callback();
    },
  });
  try {
    await pipeline(createReadStream(path, { end: limit - 1 }), createGzip({ level: 6 }), counter);
  } catch {
    // Unreadable (a dangling symlink, a permission): count it as incompressible.
    return limit;
  }
  return size;
}
