import { isStowageError, StowageError, untilAborted } from '../core/errors.js';
import type { PutOptions, StagedDigest } from '../core/types.js';

/**
 * Waits for a two-phase write's permission to publish (PutOptions.beforeCommit).
 * A refusal that is not already a StowageError becomes ABORTED with it as the
 * cause, so every adapter's error path passes it on unchanged. The caller's
 * signal ends the wait too: a gate that never answers cannot hold an aborted
 * write open.
 */
export async function awaitCommit(options: PutOptions, staged: StagedDigest, key: string): Promise<void> {
  if (!options.beforeCommit) return;
  try {
    await untilAborted(
      Promise.resolve().then(() => options.beforeCommit?.({ size: staged.size, sha256: staged.sha256 })),
      options.signal,
      key,
    );
  } catch (err) {
    if (isStowageError(err)) throw err;
    throw new StowageError('ABORTED', `write of "${key}" was not published: beforeCommit refused it`, {
      cause: err,
      key,
    });
  }
}
