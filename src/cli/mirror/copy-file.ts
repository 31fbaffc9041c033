import { isStowageError, StowageError } from '../../core/errors.js';
import type { Storage } from '../../core/types.js';
import type { ResolvedLoaderOptions } from '../../loader/options.js';
import { ObjectChangedError } from '../../loader/remote.js';
import { withRetries } from '../../loader/retry.js';
import { resolveSource } from '../../loader/source.js';
import { contentAddressedKey } from '../object-key.js';
import type { PinnedFile } from './expand-sources.js';
import { remoteDigest, remoteStream } from './remote-stream.js';

/** "copied": sent now; "present": the target already held these bytes; "planned": dry run. */
export type CopyAction = 'copied' | 'present' | 'planned';

export interface CopyOutcome {
  sha256: string | undefined;
  /** Key in the target (content-addressed); undefined in a dry run whose sha256 is not known yet. */
  key: string | undefined;
  action: CopyAction;
  /** True when the source stated no sha256 and was read once to compute it. */
  hashed: boolean;
}

export interface CopyContext {
  loader: ResolvedLoaderOptions;
  /** Where to copy; undefined: only pin (the lock entry reads the source itself). */
  target: Storage | undefined;
  dryRun: boolean;
  onBytes: (bytes: number) => void;
}

/**
 * Copies one pinned file into the target under `sha256/<ab>/<hash><ext>`,
 * unless the target already holds it (size and sha256 from head). The bytes
 * stream from the source straight into put(), which verifies size and
 * sha256 before anything is visible: a source that sends other bytes than
 * pinned publishes nothing. A source that states no sha256 is read once
 * first to compute it (the key is the hash), then copied against it.
 */
export async function copyFile(file: PinnedFile, ctx: CopyContext): Promise<CopyOutcome> {
  const { loader } = ctx;
  const remote = await resolveSource(file.fetch, loader);
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, loader.retries, loader.signal);
  const meta = await retry(() => remote.probe(loader.signal));
  if (meta.size !== file.size || (file.sha256 && meta.sha256 && file.sha256 !== meta.sha256)) {
    throw changed(remote.label, `pinned at ${file.size} bytes, now ${meta.size}`);
  }
  const stream = { partSize: loader.partSize, retries: loader.retries, signal: loader.signal };
  let sha256 = file.sha256;
  let hashed = false;
  if (!sha256) {
    if (ctx.dryRun) return { sha256: undefined, key: undefined, action: 'planned', hashed: false };
    sha256 = (await retry(() => remoteDigest(remote, meta, stream))).sha256;
    hashed = true;
  }
  if (!ctx.target) return { sha256, key: undefined, action: 'planned', hashed };
  const key = contentAddressedKey(sha256, file.path);
  const target = ctx.target;
  if (await holds(target, key, file.size, sha256)) return { sha256, key, action: 'present', hashed };
  if (ctx.dryRun) return { sha256, key, action: 'planned', hashed };
  const expected = sha256;
  await retry(async () => {
    let sent = 0;
    const body = remoteStream(remote, meta, {
      ...stream,
      onBytes: (n) => {
        sent += n;
        ctx.onBytes(n);
      },
    });
    try {
      const info = await target.put(key, body, { size: file.size, sha256: expected, signal: loader.signal });
      if (info.sha256 && info.sha256 !== expected) {
        throw new StowageError(
          'CHECKSUM_MISMATCH',
          `${key}: stored sha256 ${info.sha256}, expected ${expected}`,
        );
      }
    } catch (err) {
      ctx.onBytes(-sent);
      body.destroy();
      // Another attempt would meet the same new version: say so instead of retrying.
      throw err instanceof ObjectChangedError
        ? changed(remote.label, 'a new version appeared during the copy')
        : err;
    }
  });
  return { sha256, key, action: 'copied', hashed };
}

function changed(label: string, detail: string): StowageError {
  return new StowageError(
    'UNAVAILABLE',
    `${label} changed since it was pinned (${detail}); run mirror again`,
    {
      retryable: false,
    },
  );
}

/** True when the target has an object at `key` with this size and sha256. */
async function holds(storage: Storage, key: string, size: number, sha256: string): Promise<boolean> {
  try {
    const info = await storage.head(key);
    return info.size === size && info.sha256?.toLowerCase() === sha256;
  } catch (err) {
    if (isStowageError(err, 'NOT_FOUND')) return false;
    throw err;
  }
}
