import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Write } from '../../src/adapter-kit/write.js';
import { RESERVED_PREFIX } from './safe-root.js';

/** Names of the temp files writes stage; sweepTemp() removes old ones a crash left. */
export const TEMP_PREFIX = `${RESERVED_PREFIX}-tmp-`;

/**
 * The write half of a local put(): the body goes to a temp file in the key's
 * own directory (so the commit is a rename on one filesystem), fsynced, with
 * a second temp name reserved for the sidecar. Nothing here is visible at the key.
 */
export class TempWrite {
  /** The file the key names, where the commit renames the data to. */
  readonly target: string;
  readonly data: string;
  readonly meta: string;
  private sink: WriteStream | undefined;

  constructor(
    readonly dir: string,
    name: string,
  ) {
    this.target = join(dir, name);
    this.data = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
    this.meta = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  }

  /** Streams the body (verified on the way) into the data file and fsyncs it. */
  async fill(write: Write): Promise<void> {
    this.sink = createWriteStream(this.data, { flags: 'wx', mode: 0o644 });
    await write.pipeTo(this.sink);
    await fsyncFile(this.data);
  }

  /** Removes both temp files after a failure (a committed write has renamed them away). */
  async discard(): Promise<void> {
    // An abort can land while the temp file is still being opened: wait for the
    // stream to close, or the unlink below would run before the file exists.
    if (this.sink && !this.sink.closed) {
      this.sink.destroy();
      await finished(this.sink).catch(() => undefined);
    }
    await Promise.all([unlink(this.data).catch(() => undefined), unlink(this.meta).catch(() => undefined)]);
  }
}

/** fsync through a fresh descriptor: it flushes the file's data whichever descriptor wrote it. */
async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync the directory so a rename in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
