import { access } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type mimeTypes from 'mime-types';
import { invalidArg } from '../core/args.js';
import { isStowageError, throwIfAborted } from '../core/errors.js';
import { validateKey } from '../core/keys.js';
import type { Storage } from '../core/types.js';
import { type Manifest, type ManifestEntry, readManifest } from '../loader/manifest.js';
import { lazyRequire } from '../util/lazy-require.js';
import { comparePaths } from './format.js';
import { HashCache } from './hash-cache.js';
import type { PlannedFile } from './migrate-assets.js';
import type { MigrateRun } from './migrate-validate.js';
import { CONTENT_PREFIX, contentAddressedKey } from './object-key.js';
import { runPool } from './pool.js';
import type { ProgressReporter } from './progress.js';
import { type AppFile, type AppFileListing, listAppFiles, statFile } from './repo-files.js';
import { createSelector } from './select.js';
import { readSlugignore } from './slugignore.js';
import { checkStorageAccess, type StorageTarget } from './storage-target.js';

/** Content types from the file extension; loaded only when a file is new to the manifest. */
const mime = lazyRequire<typeof mimeTypes>('mime-types');

const HASH_CONCURRENCY = 4;
/** From this many files on, one listing beats a head request per file. */
const LIST_THRESHOLD = 32;

/** What a run would do: every chosen file with its key and whether storage already holds it. */
export interface MigrationPlan {
  existing: Manifest | undefined;
  files: PlannedFile[];
  /** Manifest entries whose file is not on disk (kept as they are). */
  absent: string[];
  /** Paths git tracks (empty outside git): what --untrack may remove from the index. */
  tracked: Set<string>;
  hashed: number;
  knownStored: number;
  cache: HashCache;
  /** Opened (and its access checked) once a file needed asking about. */
  storage: Storage | undefined;
}

/**
 * Selects, hashes (cached) and keys the files, then asks storage which it
 * already holds. Writes nothing but the hash cache.
 */
export async function planMigration(run: MigrateRun): Promise<MigrationPlan> {
  const { cwd, target } = run;
  const existing = await readExistingManifest(run.manifestPath);
  const listing = await listAppFiles(cwd);
  const { candidates, absent } = await chooseFiles(run, existing, listing);

  const cache = await HashCache.open(cwd);
  // Files to hash are new or changed, so storage will be asked: load the SDK
  // and check access first, so a missing SDK, bucket or credential fails in
  // the first second rather than after hashing gigabytes.
  let storage: Storage | undefined;
  if (target && candidates.some((f) => !cache.lookup(f))) storage = await connect(target);
  const hashing = await hashFiles(cwd, cache, candidates, run.progress, run.signal);
  const previous = new Map((existing?.files ?? []).map((e) => [e.path, e]));
  const files = await describeFiles(run, candidates, hashing.sha256, previous, listing);

  // Files this machine already uploaded and verified need no request; only the rest are asked about.
  let knownStored = 0;
  if (target && !run.recheck) {
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
    await markStored(storage, unknown, previous, run.concurrency, run.signal);
    for (const file of unknown)
      if (file.action === 'stored') cache.markStored(target.url, file.key, file.sha256);
  }
  const tracked = new Set(listing.source === 'git' ? listing.files.map((f) => f.path) : []);
  return { existing, files, absent, tracked, hashed: hashing.hashed, knownStored, cache, storage };
}

/** The selected files, plus those the manifest already holds (they stay migrated even when no longer selected). */
async function chooseFiles(
  run: MigrateRun,
  existing: Manifest | undefined,
  listing: AppFileListing,
): Promise<{ candidates: AppFile[]; absent: string[] }> {
  const select = createSelector({ globs: run.globs, minSize: run.minSize });
  const chosen = new Map<string, AppFile>();
  const manifestRel = relative(run.cwd, run.manifestPath).split(sep).join('/');
  for (const file of listing.files)
    if (select(file) && file.path !== manifestRel) chosen.set(file.path, file);
  const absent: string[] = [];
  for (const entry of existing?.files ?? []) {
    if (chosen.has(entry.path)) continue;
    const file = await statFile(run.cwd, entry.path);
    if (file) chosen.set(entry.path, file);
    else absent.push(entry.path);
  }
  if (existing && run.target && existing.storage !== run.target.url && absent.length > 0) {
    throw invalidArg(
      `${run.manifestFile} points at ${existing.storage} but this run targets ${run.target.url}, and ${absent.length} file(s) are not on disk to re-upload (first: ${absent[0]}); run "stowage pull" first`,
    );
  }
  const candidates = [...chosen.values()].sort((a, b) => comparePaths(a.path, b.path));
  // Manifest paths were validated when it was read.
  const recorded = new Set((existing?.files ?? []).map((e) => e.path));
  for (const file of candidates) if (!recorded.has(file.path)) validateKey(file.path, `path "${file.path}"`);
  return { candidates, absent };
}

/** Each file's key, type and slug status; all planned as uploads until storage says otherwise. */
async function describeFiles(
  run: MigrateRun,
  candidates: AppFile[],
  sha256s: Map<string, string>,
  previous: Map<string, ManifestEntry>,
  listing: AppFileListing,
): Promise<PlannedFile[]> {
  const slugignore = await readSlugignore(run.cwd);
  const listed = new Set(listing.files.map((f) => f.path));
  return candidates.map((file) => {
    const sha256 = sha256s.get(file.path)!;
    const entry: PlannedFile = {
      path: file.path,
      key: run.keepPaths ? file.path : contentAddressedKey(sha256, file.path),
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
}

/** Opens the storage and checks it is reachable. */
export async function connect(target: StorageTarget): Promise<Storage> {
  const storage = await target.open();
  await checkStorageAccess(storage, target.url);
  return storage;
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
