import { isStowageError } from '../core/errors.js';
import type { ResolvedLoaderOptions } from '../loader/options.js';
import { withRetries } from '../loader/retry.js';
import { resolveSource } from '../loader/source.js';
import { remoteDigest } from './mirror/remote-stream.js';

export type SourceCheck =
  | { ok: true; method: 'probe' | 'size' | 'read-back' }
  | { ok: false; problem: 'missing' | 'size' | 'sha256'; detail: string };

/**
 * Is the pinned source still these bytes? One probe: its size, and its
 * sha256 when the source states it (the hub does for LFS files). Nothing is
 * downloaded unless `deep`; a source that states no sha256 is then checked
 * by size only ("size").
 */
export async function checkSourceObject(
  source: string,
  expected: { size: number; sha256: string },
  options: { deep: boolean; loader: ResolvedLoaderOptions },
): Promise<SourceCheck> {
  const { loader } = options;
  const remote = await resolveSource(source, loader);
  let meta: Awaited<ReturnType<typeof remote.probe>>;
  try {
    meta = await withRetries(() => remote.probe(loader.signal), loader.retries, loader.signal);
  } catch (err) {
    if (isStowageError(err, 'NOT_FOUND'))
      return { ok: false, problem: 'missing', detail: 'not at the source' };
    throw err;
  }
  if (meta.size !== expected.size) {
    return { ok: false, problem: 'size', detail: `source has ${meta.size} bytes, expected ${expected.size}` };
  }
  if (meta.sha256 && !options.deep) {
    return meta.sha256.toLowerCase() === expected.sha256
      ? { ok: true, method: 'probe' }
      : {
          ok: false,
          problem: 'sha256',
          detail: `source states sha256 ${meta.sha256}, expected ${expected.sha256}`,
        };
  }
  if (!options.deep) return { ok: true, method: 'size' };
  const actual = await withRetries(
    () =>
      remoteDigest(remote, meta, {
        partSize: loader.partSize,
        retries: loader.retries,
        signal: loader.signal,
      }),
    loader.retries,
    loader.signal,
  );
  return actual.sha256 === expected.sha256
    ? { ok: true, method: 'read-back' }
    : { ok: false, problem: 'sha256', detail: `read sha256 ${actual.sha256}, expected ${expected.sha256}` };
}
