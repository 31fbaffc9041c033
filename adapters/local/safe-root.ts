import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { StowageError } from '../../src/core/errors.js';
import { validateKey } from '../../src/core/keys.js';

/** Names stowage keeps for itself next to the data: temp files and metadata sidecars. */
export const RESERVED_PREFIX = '.stowage';
/** Leave room under NAME_MAX (255) for the sidecar name wrapped around a segment. */
const MAX_SEGMENT_BYTES = 230;

/**
 * Maps keys to paths under one root and guarantees that nothing outside
 * the root is read or written: no ".." (the validator), no reserved names,
 * and no symbolic link followed, even one that stays inside the root
 * (checked segment by segment). The root itself may be a link.
 */
export class SafeRoot {
  private realRoot: Promise<string> | undefined;

  constructor(readonly root: string) {}

  /** The root's real path; creates the root on first use. */
  real(): Promise<string> {
    this.realRoot ??= mkdir(this.root, { recursive: true }).then(() => realpath(this.root));
    return this.realRoot;
  }

  /** Validates a key for this backend and returns its segments. */
  segments(key: string): { key: string; segments: string[] } {
    const valid = validateKey(key);
    const segments = valid.split('/');
    for (const segment of segments) {
      if (segment.startsWith(RESERVED_PREFIX)) {
        throw new StowageError(
          'INVALID_KEY',
          `key segments starting with "${RESERVED_PREFIX}" are reserved by the local adapter`,
        );
      }
      if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
        throw new StowageError(
          'INVALID_KEY',
          `a key segment is longer than ${MAX_SEGMENT_BYTES} bytes, the local filesystem's limit; shorten it`,
        );
      }
    }
    return { key: valid, segments };
  }

  /**
   * The directory holding a key, for reading: every segment on the way must be a real directory
   * (lstat, not stat). Undefined when one is missing, a file, or a symbolic link, wherever it
   * points: links are never followed.
   */
  async dirForRead(segments: string[]): Promise<string | undefined> {
    let dir = await this.real();
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      if (!(await isRealDirectory(dir))) return undefined;
    }
    return dir;
  }

  /**
   * Creates the directory chain for a key, refusing to pass through a
   * symlink or a file: mkdir -p would follow a link out of the root.
   */
  async dirForWrite(segments: string[], key: string): Promise<string> {
    let dir = await this.real();
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      const stat = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (stat === undefined) {
        await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        continue;
      }
      if (stat.isSymbolicLink()) {
        throw new StowageError(
          'ACCESS_DENIED',
          `refusing to write "${key}" through a symbolic link inside the storage root`,
          { key },
        );
      }
      if (!stat.isDirectory()) {
        throw new StowageError(
          'INVALID_KEY',
          `cannot write "${key}": a parent of it is stored as an object (the local adapter cannot hold "a" and "a/b" at once)`,
          { key },
        );
      }
    }
    return dir;
  }
}

/** A directory itself, not a symbolic link to one (nor a file, nor nothing). */
export async function isRealDirectory(path: string): Promise<boolean> {
  const stat = await lstat(path).catch(() => undefined);
  return stat?.isDirectory() === true;
}
