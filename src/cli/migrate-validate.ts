import { isAbsolute, join, resolve } from 'node:path';
import { invalidArg } from '../core/args.js';
import { isStowageError } from '../core/errors.js';
import { MANIFEST_FILE } from '../loader/manifest.js';
import { isGitWorkTree } from './git.js';
import type { MigrateAssetsOptions, UploadVerification } from './migrate-assets.js';
import { type ProgressReporter, silentProgress } from './progress.js';
import { resolveStorageTarget, type StorageTarget } from './storage-target.js';

const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 256;
const VERIFICATIONS: readonly UploadVerification[] = ['put', 'head', 'read-back'];

/** migrateAssets() options, checked and with their defaults: what plan and apply work from. */
export interface MigrateRun {
  cwd: string;
  globs: string[];
  minSize: number | undefined;
  /** Undefined for a dry run without storage: the plan cannot ask what is stored. */
  target: StorageTarget | undefined;
  keepPaths: boolean;
  dryRun: boolean;
  untrack: boolean;
  concurrency: number;
  verify: UploadVerification;
  recheck: boolean;
  /** As given (messages and the result name it); `manifestPath` is where it is. */
  manifestFile: string;
  manifestPath: string;
  progress: ProgressReporter;
  signal: AbortSignal | undefined;
}

/**
 * Checks every option before any work, with errors that name the option as
 * a programmer wrote it (`options.minSize`); the CLI words them as flags.
 */
export async function validateMigrateOptions(options: MigrateAssetsOptions): Promise<MigrateRun> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw invalidArg(
      `options.concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${String(concurrency)}`,
    );
  }
  if (options.minSize !== undefined && (!Number.isSafeInteger(options.minSize) || options.minSize < 0)) {
    throw invalidArg(
      `options.minSize must be a non-negative integer (bytes), got ${String(options.minSize)}`,
    );
  }
  const verify = options.verify ?? 'put';
  if (!VERIFICATIONS.includes(verify)) {
    throw invalidArg(`options.verify must be "put", "head" or "read-back", got ${JSON.stringify(verify)}`);
  }
  if (options.untrack && !(await isGitWorkTree(cwd))) {
    throw invalidArg(`options.untrack needs a git repository: ${cwd} has no index to remove files from`);
  }
  const manifestFile = options.manifest ?? MANIFEST_FILE;
  return {
    cwd,
    globs: options.globs ?? [],
    minSize: options.minSize,
    target: resolveTarget(options),
    keepPaths: options.keepPaths === true,
    dryRun: options.dryRun === true,
    untrack: options.untrack === true,
    concurrency,
    verify,
    recheck: options.recheck === true,
    manifestFile,
    manifestPath: isAbsolute(manifestFile) ? manifestFile : join(cwd, manifestFile),
    progress: options.progress ?? silentProgress,
    signal: options.signal,
  };
}

function resolveTarget(options: MigrateAssetsOptions): StorageTarget | undefined {
  if (options.storage) {
    if (!options.storageUrl) {
      throw invalidArg('options.storage needs options.storageUrl too: the URL the manifest records');
    }
    const storage = options.storage;
    return { url: options.storageUrl, open: async () => storage };
  }
  try {
    return resolveStorageTarget(options.to, options.env ?? process.env);
  } catch (err) {
    // A dry run without storage still shows the plan; it just cannot say what is already stored.
    if (options.dryRun && options.to === undefined && isStowageError(err, 'INVALID_ARGUMENT'))
      return undefined;
    throw err;
  }
}
