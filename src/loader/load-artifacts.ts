import { stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { checkInteger } from '../adapter-kit/integer-option.js';
import { createStorage } from '../config/create-storage.js';
import { invalidArg } from '../core/args.js';
import { isStowageError, StowageError } from '../core/errors.js';
import { digestFile } from '../core/integrity.js';
import { validateKey } from '../core/keys.js';
import type { Storage } from '../core/types.js';
import { log } from '../util/log.js';
import { redactUrl } from '../util/redact.js';
import { enforceCacheCap, ensureBlob } from './blob.js';
import { BlobCache } from './cache.js';
import { loaderError } from './failure.js';
import { resolveHfFiles } from './hf/resolve-files.js';
import { MANIFEST_FILE, type Manifest, type ManifestEntry, parseManifest, readManifest } from './manifest.js';
import { type LoaderOptions, type ResolvedLoaderOptions, resolveLoaderOptions } from './options.js';
import { placeBlob, sameFile } from './place.js';
import { FileProgress } from './progress.js';
import type { Remote } from './remote.js';
import { resolveSource } from './source.js';
import { StorageRemote } from './storage-remote.js';

export interface LoadArtifactsOptions extends LoaderOptions {
  /** Manifest file (relative to root) or a parsed manifest; default stowage.lock.json. */
  manifest?: string | Manifest;
  /** App root the manifest paths are relative to (default process.cwd()). */
  root?: string;
  /** Where the blobs are: a Storage or a storage URL (default: the manifest's "storage", credentials from the environment). */
  storage?: Storage | string;
  /** Files loaded at the same time (default 2). */
  parallelFiles?: number;
  /**
   * Instead of a manifest: hf:// sources (a file or a glob, e.g.
   * hf://org/repo@<commit>/onnx/*.onnx), each file restored under `dir` at its
   * path in the repo, side by side. Revisions are resolved on every call;
   * pin them in stowage.lock.json to boot without asking the hub.
   */
  sources?: string[];
  /** Folder (relative to root) the files of `sources` go to (default: root). */
  dir?: string;
}

export interface RestoredFile {
  /** Manifest path, relative to root. */
  path: string;
  absolutePath: string;
  sha256: string;
  size: number;
  /** How the file got there: already correct, or from the cache (downloaded or not). */
  source: 'existing' | 'cache' | 'download';
}

/**
 * Restores every file of the manifest to its path under root, through the
 * cache. A file already at its path with the right content is left alone.
 */
export async function loadArtifacts(options: LoadArtifactsOptions = {}): Promise<RestoredFile[]> {
  return runArtifacts(options, () => undefined);
}

/** loadArtifacts with a hook that receives each file's progress tracker (for background mode). */
export async function runArtifacts(
  options: LoadArtifactsOptions,
  track: (progress: FileProgress[]) => void,
): Promise<RestoredFile[]> {
  return restoreAll(options, track).catch((err) => {
    throw loaderError(err, 'loadArtifacts');
  });
}

async function restoreAll(
  options: LoadArtifactsOptions,
  track: (progress: FileProgress[]) => void,
): Promise<RestoredFile[]> {
  if (options.root !== undefined && (typeof options.root !== 'string' || options.root === '')) {
    throw invalidArg('options.root must be the app directory (a path)');
  }
  // The default cache lives in the app's node_modules/.cache, like other build caches.
  const resolved = resolveLoaderOptions(options, process.env, resolve(options.root ?? process.cwd()));
  if (
    options.manifest !== undefined &&
    typeof options.manifest !== 'string' &&
    typeof options.manifest !== 'object'
  ) {
    throw invalidArg('options.manifest must be a file path or a manifest object');
  }
  const root = resolve(options.root ?? process.cwd());
  const started = Date.now();
  const manifest =
    options.sources !== undefined
      ? await sourcesManifest(options, resolved)
      : typeof options.manifest === 'object' && options.manifest !== null
        ? parseManifest(JSON.stringify(options.manifest), 'options.manifest')
        : await readManifest(resolveIn(root, options.manifest ?? MANIFEST_FILE));
  const parallel = checkInteger(options.parallelFiles, 'options.parallelFiles') ?? 2;
  const trackers = manifest.files.map((entry) => {
    const p = new FileProgress(entry.path, resolved);
    p.total = entry.size;
    return p;
  });
  track(trackers);

  let storage: Promise<Storage> | undefined;
  const getStorage = () => {
    storage ??= resolveStorage(options.storage, manifest);
    return storage;
  };
  const results: RestoredFile[] = new Array(manifest.files.length);
  const queue = [...manifest.files.keys()];
  let failure: unknown;
  // The first failure stops the files still downloading: the caller hears of it now, not minutes later.
  const stop = new AbortController();
  const run = {
    ...resolved,
    signal: resolved.signal ? AbortSignal.any([resolved.signal, stop.signal]) : stop.signal,
  };
  const missing: number[] = [];
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined && failure === undefined; i = queue.shift()) {
      const entry = manifest.files[i] as ManifestEntry;
      const progress = trackers[i] as FileProgress;
      try {
        results[i] = await restoreOne(entry, root, run, progress, getStorage);
      } catch (caught) {
        const err = loaderError(caught, entry.path);
        progress.error = err.message;
        progress.setState('failed');
        // Offline, list everything the cache lacks in one error rather than the first.
        if (resolved.offline && isStowageError(err, 'NOT_FOUND')) missing.push(i);
        else if (failure === undefined) {
          failure = err;
          stop.abort(err);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel || 1, queue.length)) }, worker));
  if (failure !== undefined) throw failure;
  if (missing.length > 0) {
    throw new StowageError(
      'NOT_FOUND',
      `offline mode (STOWAGE_OFFLINE): ${missing.length} file(s) not in the cache ${resolved.cacheDir}: ${missing
        .sort((a, b) => a - b)
        .map((i) => manifest.files[i]?.path)
        .join(', ')}; run once with network access, or unset STOWAGE_OFFLINE`,
    );
  }
  const count = (source: RestoredFile['source']) => results.filter((r) => r.source === source).length;
  log.info(
    `artifacts ready: ${results.length} file(s) in ${((Date.now() - started) / 1000).toFixed(1)} s (${count('download')} downloaded, ${count('cache')} from the cache, ${count('existing')} already in place)`,
  );
  if (results.some((r) => r.source === 'download')) {
    await enforceCacheCap(
      resolved,
      manifest.files.map((f) => f.sha256),
    );
  }
  return results;
}

async function restoreOne(
  entry: ManifestEntry,
  root: string,
  options: ResolvedLoaderOptions,
  progress: FileProgress,
  getStorage: () => Promise<Storage>,
): Promise<RestoredFile> {
  const target = resolveIn(root, entry.path);
  const base = { path: entry.path, absolutePath: target, sha256: entry.sha256, size: entry.size };
  progress.setState('checking');
  const cache = new BlobCache(options.cacheDir);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isFile() && existing.size === entry.size) {
    // A link to a warm blob, or a copy whose own sidecar still matches, is correct by a stat;
    // any other file is hashed (once: a match is recorded like a copy).
    const trusted =
      options.verify === 'stat' &&
      (((await sameFile(target, cache.blobPath(entry.sha256))) &&
        (await cache.isWarm(entry.sha256, options.verify, entry.size))) ||
        (await cache.isPlacedCopy(target, entry.sha256)));
    const hashed = !trusted && (await digestFile(target)).sha256 === entry.sha256;
    if (hashed) await cache.recordPlacedCopy(target, entry.sha256).catch(() => undefined);
    if (trusted || hashed) {
      progress.cached = true;
      progress.bytes = entry.size;
      progress.setState('ready');
      return { ...base, source: 'existing' };
    }
  }
  const remote = options.offline
    ? offlineRemote(entry)
    : entry.source !== undefined
      ? await resolveSource(entry.source, options)
      : new StorageRemote(await getStorage(), entry.key);
  const blob = await ensureBlob(remote, { sha256: entry.sha256, size: entry.size }, options, progress);
  const how = await placeBlob(blob.path, target);
  if (how === 'copy') {
    log.info(`${entry.path}: copied from the cache (another filesystem; hard link impossible)`);
    await cache.recordPlacedCopy(target, blob.sha256).catch(() => undefined);
  }
  return { ...base, source: blob.downloaded ? 'download' : 'cache' };
}

/** Offline, the source is never asked: the cache answers (or ensureBlob explains what is missing). */
function offlineRemote(entry: ManifestEntry): Remote {
  const refuse = async (): Promise<never> => {
    throw new StowageError('NOT_FOUND', `offline mode: ${entry.path} cannot be fetched`);
  };
  return { label: entry.path, identity: `offline:${entry.key ?? entry.source}`, probe: refuse, open: refuse };
}

/** The manifest of options.sources: every file of every source pinned, under options.dir. */
async function sourcesManifest(
  options: LoadArtifactsOptions,
  resolved: ResolvedLoaderOptions,
): Promise<Manifest> {
  if (!Array.isArray(options.sources) || options.sources.some((s) => typeof s !== 'string')) {
    throw invalidArg('options.sources must be an array of hf:// URLs');
  }
  if (options.manifest !== undefined) throw invalidArg('give options.sources or options.manifest, not both');
  const dir = options.dir === undefined ? '' : validateKey(options.dir.replace(/\/+$/, ''), 'options.dir');
  const files: ManifestEntry[] = [];
  for (const source of options.sources) {
    if (!/^hf:\/\//i.test(source.trim())) {
      throw invalidArg(
        `options.sources takes hf:// URLs; put ${JSON.stringify(redactUrl(source).slice(0, 80))} in the manifest`,
      );
    }
    const hfOptions = { ...options, signal: resolved.signal, cacheDir: resolved.cacheDir };
    for (const file of await resolveHfFiles(source, hfOptions)) {
      const path = validateKey(dir ? `${dir}/${file.path}` : file.path, 'source path');
      files.push({ path, source: file.source, size: file.size, sha256: file.sha256 });
    }
  }
  return { version: 1, storage: '', files };
}

async function resolveStorage(given: Storage | string | undefined, manifest: Manifest): Promise<Storage> {
  if (given !== undefined && typeof given !== 'string') {
    if (typeof given !== 'object' || typeof given.get !== 'function') {
      throw invalidArg('options.storage must be a Storage or a storage URL');
    }
    return given;
  }
  const url = given ?? manifest.storage;
  log.info(`loading artifacts from ${redactUrl(url)}`);
  return createStorage(url);
}

/** A manifest path under root; validateKey already refused "..", this guards absolute inputs too. */
function resolveIn(root: string, path: string): string {
  const abs = isAbsolute(path) ? path : resolve(root, path);
  if (abs !== root && !abs.startsWith(root + sep) && !isAbsolute(path)) {
    throw invalidArg(`manifest path ${JSON.stringify(path)} escapes the app root`);
  }
  return abs;
}
