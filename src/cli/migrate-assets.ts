import { setMaxListeners } from 'node:events';
import { access } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type mimeTypes from 'mime-types';
import { isStowageError, StowageError, throwIfAborted } from '../errors.js';
import { validateKey } from '../keys.js';
import {
  MANIFEST_FILE,
  type Manifest,
  type ManifestEntry,
  mergeManifests,
  readManifest,
  type StoredEntry,
  serializeManifest,
  writeManifest,
} from '../manifest.js';
import type { Storage } from '../types.js';
import { lazyRequire } from '../util/lazy-require.js';
import { UsageError } from './exit-codes.js';
import { fileBody } from './file-body.js';
import { comparePaths } from './format.js';
import { gitUntrack, isGitWorkTree } from './git.js';
import { HashCache } from './hash-cache.js';
import { CONTENT_PREFIX, contentAddressedKey } from './object-key.js';
import { runPool } from './pool.js';
import { type ProgressReporter, silentProgress } from './progress.js';
import { type AppFile, listAppFiles, statFile } from './repo-files.js';
import { createSelector } from './select.js';
import { addToSlugignore, readSlugignore } from './slugignore.js';
import { checkStorageAccess, resolveStorageTarget, type StorageTarget } from './storage-target.js';
import { checkStoredObject } from './verify-object.js';

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

/** Content types from the file extension; loaded only when a file is new to the manifest. */
const mime = lazyRequire<typeof mimeTypes>('mime-types');

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

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_VERIFICATION: UploadVerification = 'put';
const HASH_CONCURRENCY = 4;
/** From this many files on, one listing beats a head request per file. */
const LIST_THRESHOLD = 32;

/**
 * Moves large and asset files out of the slug into object storage:
 * select, hash (cached), upload what storage lacks, verify, then record
 * the manifest and .slugignore. Safe to re-run and to resume.
 */
export async function migrateAssets(options: MigrateAssetsOptions = {}): Promise<MigrateAssetsResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const progress = options.progress ?? silentProgress;
  const concurrency = checkConcurrency(options.concurrency);
  // Every in-flight request listens on the signal: not a leak, just many.
  if (options.signal) setMaxListeners(0, options.signal);
  const manifestFile = options.manifest ?? MANIFEST_FILE;
  const manifestPath = isAbsolute(manifestFile) ? manifestFile : join(cwd, manifestFile);
  if (options.minSize !== undefined && (!Number.isSafeInteger(options.minSize) || options.minSize < 0)) {
    throw new UsageError('--min-size must be a non-negative size such as 500kB or 1MB');
  }

  if (options.untrack && !(await isGitWorkTree(cwd))) {
    throw new UsageError('--untrack needs a git repository: there is no index to remove files from');
  }
  const target = resolveTarget(options, env);
  if (options.verify !== undefined && !['head', 'read-back', 'put'].includes(options.verify)) {
    throw new UsageError('--verify must be head, read-back or put');
  }

  const existing = await readExistingManifest(manifestPath);
  const listing = await listAppFiles(cwd);
  const slugignore = await readSlugignore(cwd);
  const select = createSelector({ globs: options.globs ?? [], minSize: options.minSize });

  // Files already in the manifest stay migrated even when no longer tracked or selected.
  const chosen = new Map<string, AppFile>();
  const manifestRel = relative(cwd, manifestPath).split(sep).join('/');
  for (const file of listing.files)
    if (select(file) && file.path !== manifestRel) chosen.set(file.path, file);
  const absent: string[] = [];
  for (const entry of existing?.files ?? []) {
    if (chosen.has(entry.path)) continue;
    const file = await statFile(cwd, entry.path);
    if (file) chosen.set(entry.path, file);
    else absent.push(entry.path);
  }
  if (existing && target && existing.storage !== target.url && absent.length > 0) {
    throw new UsageError(
      `${manifestFile} points at ${existing.storage} but this run targets ${target.url}, and ${absent.length} file(s) are not on disk to re-upload (first: ${absent[0]}); run "stowage pull" first`,
    );
  }
  const candidates = [...chosen.values()].sort((a, b) => comparePaths(a.path, b.path));
  // Manifest paths were validated when it was read.
  const recorded = new Set((existing?.files ?? []).map((e) => e.path));
  for (const file of candidates) if (!recorded.has(file.path)) validateKey(file.path, `path "${file.path}"`);

  const cache = await HashCache.open(cwd);
  // Files to hash are new or changed, so storage will be asked: load the SDK
  // and check access first, so a missing SDK, bucket or credential fails in
  // the first second rather than after hashing gigabytes.
  let storage: Storage | undefined;
  if (target && candidates.some((f) => !cache.lookup(f))) storage = await connect(target);
  const hashing = await hashFiles(cwd, cache, candidates, progress, options.signal);
  const tracked = new Set(listing.source === 'git' ? listing.files.map((f) => f.path) : []);
  const listed = new Set(listing.files.map((f) => f.path));
  const previous = new Map((existing?.files ?? []).map((e) => [e.path, e]));

  const files: PlannedFile[] = candidates.map((file) => {
    const sha256 = hashing.sha256.get(file.path)!;
    const entry: PlannedFile = {
      path: file.path,
      key: options.keepPaths ? file.path : contentAddressedKey(sha256, file.path),
      size: file.size,
      sha256,
      action: 'upload',
      inSlug: listed.has(file.path) && !slugignore.ignores(file.path),
    };
    // Same path, same type: a re-run need not load the MIME table.
    const type = previous.get(file.path)?.contentType ?? mime().lookup(file.path);
    if (type) entry.contentType = type;
    return entry;
  });

  // Files this machine already uploaded and verified need no request; only the rest are asked about.
  let knownStored = 0;
  if (target && !options.recheck) {
    for (const file of files) {
      if (cache.isStored(target.url, file.key, file.sha256)) {
        file.action = 'stored';
        knownStored++;
      }
    }
  }
  const unknown = files.filter((f) => f.action === 'upload');
  if (target && unknown.length > 0) {
    storage ??= await connect(target);
    await markStored(storage, unknown, previous, concurrency, options.signal);
    for (const file of unknown)
      if (file.action === 'stored') cache.markStored(target.url, file.key, file.sha256);
  }

  const result: MigrateAssetsResult = {
    dryRun: options.dryRun === true,
    storage: target?.url,
    storageChecked: target !== undefined,
    manifest: manifestFile,
    files,
    uploaded: 0,
    uploadedBytes: 0,
    alreadyStored: files.filter((f) => f.action === 'stored').length,
    hashed: hashing.hashed,
    knownStored,
    slugBytesSaved: files.filter((f) => f.inSlug).reduce((sum, f) => sum + f.size, 0),
    slugignoreAdded: [],
    untracked: [],
    absent,
  };
  if (options.dryRun || !target) {
    await cache.save();
    return result;
  }

  const toUpload = files.filter((f) => f.action === 'upload');
  progress.begin(
    'uploading',
    toUpload.reduce((sum, f) => sum + f.size, 0),
    toUpload.length,
  );
  try {
    await runPool(toUpload, concurrency, async (file) => {
      throwIfAborted(options.signal);
      await uploadAndVerify(storage!, cwd, file, {
        immutable: options.keepPaths !== true,
        verify: options.verify ?? DEFAULT_VERIFICATION,
        signal: options.signal,
      });
      cache.markStored(target.url, file.key, file.sha256);
      result.uploaded++;
      result.uploadedBytes += file.size;
      progress.fileDone(file.path, file.size, 'uploaded');
    });
  } finally {
    progress.end();
    // Saved even after a failure: a resumed run neither re-hashes nor re-asks about what is done.
    await cache.save();
  }

  // Interrupted after the uploads: write nothing rather than a manifest the user did not let finish.
  throwIfAborted(options.signal);
  const update: Manifest = { version: 1, storage: target.url, files: files.map(toManifestEntry) };
  const merged = existing ? mergeManifests(existing, update) : update;
  if (!existing || serializeManifest(existing) !== serializeManifest(merged)) {
    await writeManifest(merged, manifestPath);
  }
  result.slugignoreAdded = await addToSlugignore(
    cwd,
    files.map((f) => f.path),
  );
  if (options.untrack) {
    result.untracked = files.filter((f) => tracked.has(f.path)).map((f) => f.path);
    await gitUntrack(cwd, result.untracked);
  }
  return result;
}

/** Opens the storage and checks it is reachable. */
async function connect(target: StorageTarget): Promise<Storage> {
  const storage = await target.open();
  await checkStorageAccess(storage, target.url);
  return storage;
}

function resolveTarget(options: MigrateAssetsOptions, env: NodeJS.ProcessEnv): StorageTarget | undefined {
  if (options.storage) {
    if (!options.storageUrl) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        'migrateAssets({ storage }) also needs storageUrl for the manifest',
      );
    }
    const storage = options.storage;
    return { url: options.storageUrl, open: async () => storage };
  }
  try {
    return resolveStorageTarget(options.to, env);
  } catch (err) {
    // A dry run without storage still shows the plan; it just cannot say what is already stored.
    if (options.dryRun && options.to === undefined && err instanceof UsageError) return undefined;
    throw err;
  }
}

async function readExistingManifest(path: string): Promise<Manifest | undefined> {
  try {
    await access(path);
  } catch {
    return undefined;
  }
  return readManifest(path);
}

async function hashFiles(
  cwd: string,
  cache: HashCache,
  files: AppFile[],
  progress: ProgressReporter,
  signal: AbortSignal | undefined,
): Promise<{ sha256: Map<string, string>; hashed: number }> {
  const sha256 = new Map<string, string>();
  const todo: AppFile[] = [];
  for (const file of files) {
    const cached = cache.lookup(file);
    if (cached) sha256.set(file.path, cached);
    else todo.push(file);
  }
  progress.begin(
    'hashing',
    todo.reduce((sum, f) => sum + f.size, 0),
    todo.length,
  );
  try {
    await runPool(todo, HASH_CONCURRENCY, async (file) => {
      throwIfAborted(signal);
      const digest = await cache.digest(cwd, file);
      sha256.set(file.path, digest.sha256);
      progress.fileDone(file.path, file.size, 'hashed');
    });
  } finally {
    progress.end();
    // Saved even after a failure: a resumed run re-hashes nothing already hashed.
    await cache.save();
  }
  return { sha256, hashed: todo.length };
}

/**
 * Marks files the storage already holds. Content-addressed keys: one
 * listing (or a head each, for few files) with the size is proof enough,
 * the key is the hash. Path keys: the stored sha256 must match too.
 */
async function markStored(
  storage: Storage,
  files: PlannedFile[],
  previous: Map<string, ManifestEntry>,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const contentKeyed = files.filter((f) => f.key.startsWith(CONTENT_PREFIX) && f.key !== f.path);
  let listed: Map<string, number> | undefined;
  if (contentKeyed.length >= LIST_THRESHOLD) listed = await listSizes(storage, CONTENT_PREFIX, signal);
  await runPool(files, concurrency, async (file) => {
    throwIfAborted(signal);
    const contentAddressed = file.key !== file.path;
    if (contentAddressed && listed) {
      if (listed.get(file.key) === file.size) file.action = 'stored';
      return;
    }
    let info: Awaited<ReturnType<Storage['head']>>;
    try {
      info = await storage.head(file.key);
    } catch (err) {
      if (isStowageError(err, 'NOT_FOUND')) return;
      throw err;
    }
    if (info.size !== file.size) return;
    if (info.sha256) {
      if (info.sha256.toLowerCase() === file.sha256) file.action = 'stored';
      return;
    }
    const before = previous.get(file.path);
    if (contentAddressed || (before?.key === file.key && before.sha256 === file.sha256)) {
      file.action = 'stored';
    }
  });
}

async function listSizes(
  storage: Storage,
  prefix: string,
  signal: AbortSignal | undefined,
): Promise<Map<string, number> | undefined> {
  const sizes = new Map<string, number>();
  try {
    for await (const info of storage.list(prefix, signal ? { signal } : {})) sizes.set(info.key, info.size);
  } catch (err) {
    if (isStowageError(err, 'NOT_SUPPORTED')) return undefined;
    throw err;
  }
  return sizes;
}

async function uploadAndVerify(
  storage: Storage,
  cwd: string,
  file: PlannedFile,
  how: { immutable: boolean; verify: UploadVerification; signal: AbortSignal | undefined },
): Promise<void> {
  const stored = await storage.put(file.key, await fileBody(join(cwd, file.path), file.size), {
    size: file.size,
    sha256: file.sha256,
    ...(file.contentType ? { contentType: file.contentType } : {}),
    ...(how.immutable ? { cacheControl: 'public, max-age=31536000, immutable' } : {}),
    ...(how.signal ? { signal: how.signal } : {}),
  });
  if (how.verify === 'put') {
    // The contract: a put given size and sha256 stores exactly those bytes or fails.
    if (stored.size === file.size && (!stored.sha256 || stored.sha256 === file.sha256)) return;
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `upload of ${file.path} to "${file.key}" reported ${stored.size} bytes and sha256 ${stored.sha256 ?? '(none)'}, expected ${file.size} bytes and ${file.sha256}`,
      { key: file.key },
    );
  }
  const check = await checkStoredObject(storage, file.key, file, { deep: how.verify === 'read-back' });
  if (!check.ok) {
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `upload of ${file.path} to "${file.key}" did not verify: ${check.detail}`,
      { key: file.key },
    );
  }
}

function toManifestEntry(file: PlannedFile): ManifestEntry {
  const entry: ManifestEntry = { path: file.path, key: file.key, size: file.size, sha256: file.sha256 };
  if (file.contentType) entry.contentType = file.contentType;
  return entry;
}

function checkConcurrency(value: number | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(value) || value < 1 || value > 256) {
    throw new UsageError('--concurrency must be an integer from 1 to 256');
  }
  return value;
}
