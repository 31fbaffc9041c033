import { basename } from 'node:path';
import type picomatchModule from 'picomatch';
import { StowageError } from '../../core/errors.js';
import { lazyRequire } from '../../util/lazy-require.js';
import { loadModel } from '../load-model.js';
import { type LoaderOptions, resolveLoaderOptions } from '../options.js';
import { withRetries } from '../retry.js';
import { type ApiContext, type HubTreeFile, listFiles, pathsInfo, resolveCommit } from './api.js';
import { hfSettings } from './settings.js';
import { formatHfUrl, isGlob, parseHfUrl } from './url.js';

const picomatch = lazyRequire<typeof picomatchModule>('picomatch');

/** One hub file pinned: what a lock entry (or a mirror) records. */
export interface HfPinnedFile {
  /** Pinned URL: hf://[datasets/|spaces/]org/repo@<40-hex commit>/path */
  source: string;
  /** Path in the repo. */
  path: string;
  size: number;
  sha256: string;
  commit: string;
}

/**
 * Pins an hf:// source: resolves its revision to a commit and lists the
 * file (or every file a glob in its path matches, through the tree API)
 * with size and sha256. LFS files carry their sha256 in the listing; other
 * (small) files are downloaded into the cache once and hashed.
 */
export async function resolveHfFiles(source: string, options: LoaderOptions = {}): Promise<HfPinnedFile[]> {
  const resolved = resolveLoaderOptions(options);
  const ref = parseHfUrl(source);
  const ctx: ApiContext = {
    settings: hfSettings(resolved),
    signal: resolved.signal,
    timeout: resolved.stallTimeout,
  };
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, resolved.retries, resolved.signal);
  const commit = await retry(() => resolveCommit(ref, ctx));
  let files: HubTreeFile[];
  if (isGlob(ref.path)) {
    const match = picomatch()(ref.path, { dot: true });
    const base = ref.path.split('/');
    const dir = base
      .slice(
        0,
        base.findIndex((s) => isGlob(s)),
      )
      .join('/');
    files = (await retry(() => listFiles(ref, commit, dir, ctx))).filter((f) => match(f.path));
  } else {
    files = await retry(() => pathsInfo(ref, commit, [ref.path], ctx));
  }
  if (files.length === 0) {
    throw new StowageError(
      'NOT_FOUND',
      `Hugging Face: nothing matches ${ref.path} in ${ref.repo} at revision "${ref.revision}" (commit ${commit})`,
    );
  }
  const out: HfPinnedFile[] = [];
  for (const file of files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const pinned = formatHfUrl({ ...ref, revision: commit, path: file.path });
    if (file.lfs) {
      out.push({ source: pinned, path: file.path, size: file.lfs.size, sha256: file.lfs.oid, commit });
      continue;
    }
    // Git (non-LFS) files have no sha256 on the hub: hash them (into the cache, so a restore finds them warm).
    const blob = await loadModel(pinned, { ...options, size: file.size });
    out.push({ source: pinned, path: file.path, size: file.size, sha256: basename(blob), commit });
  }
  return out;
}
