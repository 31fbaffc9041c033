import { setMaxListeners } from 'node:events';
import type { Storage } from '../core/types.js';
import type { StoredEntry } from '../loader/manifest.js';
import { applyMigration } from './migrate-apply.js';
import { planMigration } from './migrate-plan.js';
import { validateMigrateOptions } from './migrate-validate.js';
import type { ProgressReporter } from './progress.js';

export interface MigrateAssetsOptions {
  /** App directory (default: process.cwd()). */
  cwd?: string;
  /** picomatch globs of paths to move; empty: the default rule (asset extensions, or ≥ 1 MB). */
  globs?: string[];
  /** Only files at least this big (bytes); combined with globs, both must hold. */
  minSize?: number;
  /** Storage URL (default: STOWAGE_URL and the variables createStorage() knows). */
  to?: string;
  /** A ready Storage instead of `to` (tests, programmatic use); `storageUrl` then names it in the manifest. */
  storage?: Storage;
  storageUrl?: string;
  /** Keys equal to the file paths instead of `sha256/<ab>/<hash><ext>`. */
  keepPaths?: boolean;
  dryRun?: boolean;
  /** `git rm --cached` the moved files (they stay on disk). */
  untrack?: boolean;
  /** Parallel uploads (default 8). */
  concurrency?: number;
  /**
   * How each upload is verified (see UploadVerification); default "put".
   */
  verify?: UploadVerification;
  /** Ask storage about every file, ignoring what this machine already confirmed it holds. */
  recheck?: boolean;
  /** Manifest path, relative to cwd (default stowage.lock.json). */
  manifest?: string;
  env?: NodeJS.ProcessEnv;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

/**
 * - "put" (default): the write itself is the check. The adapter hashes the
 *   bytes it streams and fails the put, before the object is committed, when
 *   their size or sha256 differs from the file's; the size and sha256 it
 *   reports must match too. On S3 the store checks the transfer as well: a
 *   single PutObject (up to the part size, 8 MiB by default) carries
 *   Content-MD5, and on AWS multipart parts carry CRC32 checksums. No extra
 *   request.
 * - "head": "put", then one HEAD per object: it must exist with the right
 *   size, and the sha256 the backend recorded (S3: x-amz-meta-sha256) must
 *   match; a backend that records none is read back instead.
 * - "read-back": "put", then the object is downloaded and hashed: proves
 *   what storage returns, at the cost of a full download.
 */
export type UploadVerification = 'head' | 'read-back' | 'put';

/** "upload": storage does not hold it yet; "stored": already there, nothing to send. */
export type PlanAction = 'upload' | 'stored';

export interface PlannedFile extends StoredEntry {
  action: PlanAction;
  /** True when the file is in the slug today (tracked and not yet in .slugignore). */
  inSlug: boolean;
}

export interface MigrateAssetsResult {
  dryRun: boolean;
  /** Storage URL as recorded (no credentials); undefined for a dry run without storage. */
  storage: string | undefined;
  /** False when a dry run had no storage to ask, so every file is planned as an upload. */
  storageChecked: boolean;
  manifest: string;
  files: PlannedFile[];
  uploaded: number;
  uploadedBytes: number;
  alreadyStored: number;
  /** Files hashed this run (the rest came from the hash cache). */
  hashed: number;
  /** Requests-free: files known stored from this machine's earlier runs (see `recheck`). */
  knownStored: number;
  /** Bytes that leave the slug (files in it today that the plan moves). */
  slugBytesSaved: number;
  slugignoreAdded: string[];
  untracked: string[];
  /** Manifest entries whose file is not on disk (kept as they are). */
  absent: string[];
}

/**
 * Moves large and asset files out of the slug into object storage:
 * select, hash (cached), upload what storage lacks, verify, then record
 * the manifest and .slugignore. Safe to re-run and to resume.
 */
export async function migrateAssets(options: MigrateAssetsOptions = {}): Promise<MigrateAssetsResult> {
  const run = await validateMigrateOptions(options);
  // Every in-flight request listens on the signal: not a leak, just many.
  if (run.signal) setMaxListeners(0, run.signal);
  const plan = await planMigration(run);
  const { files } = plan;
  const result: MigrateAssetsResult = {
    dryRun: run.dryRun,
    storage: run.target?.url,
    storageChecked: run.target !== undefined,
    manifest: run.manifestFile,
    files,
    uploaded: 0,
    uploadedBytes: 0,
    alreadyStored: files.filter((f) => f.action === 'stored').length,
    hashed: plan.hashed,
    knownStored: plan.knownStored,
    slugBytesSaved: files.filter((f) => f.inSlug).reduce((sum, f) => sum + f.size, 0),
    slugignoreAdded: [],
    untracked: [],
    absent: plan.absent,
  };
  const { target } = run;
  if (run.dryRun || !target) {
    await plan.cache.save();
    return result;
  }
  await applyMigration({ ...run, target }, plan, result);
  return result;
}
