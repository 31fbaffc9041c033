import { StowageError } from '../core/errors.js';
import { enforceCacheCap, ensureBlob } from './blob.js';
import { loaderError } from './failure.js';
import { checkExpected, type LoaderOptions, resolveLoaderOptions } from './options.js';
import { FileProgress } from './progress.js';
import { type ModelSource, resolveSource } from './source.js';

export interface LoadModelOptions extends LoaderOptions {
  /** Expected hex sha256: enables stat-only warm hits and full verification. */
  sha256?: string;
  /** Expected size in bytes. */
  size?: number;
  /** Name used in log lines (default: the source without credentials or query). */
  name?: string;
}

/**
 * Downloads (or finds in the cache) one object and returns the absolute
 * path of the verified local file. The file is the cache blob itself:
 * read it, do not modify it.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<string> {
  let progress: FileProgress | undefined;
  try {
    const resolved = resolveLoaderOptions(options);
    const expected = checkExpected(options.sha256, options.size);
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new StowageError('INVALID_ARGUMENT', 'options.name must be a string');
    }
    const remote = await resolveSource(source, resolved);
    progress = new FileProgress(options.name ?? remote.label, resolved);
    const blob = await ensureBlob(remote, expected, resolved, progress);
    if (blob.downloaded) await enforceCacheCap(resolved, [blob.sha256]);
    return blob.path;
  } catch (err) {
    const failure = loaderError(err, progress?.name ?? 'loadModel');
    if (progress) {
      progress.error = failure.message;
      progress.setState('failed');
    }
    throw failure;
  }
}
