import { defaultCacheDir, loadArtifacts } from '../loader/index.js';
import { hubOptionsFrom } from './loader-env.js';
import { type ManifestSourceOptions, openManifestSource } from './manifest-source.js';
import { type ProgressReporter, silentProgress } from './progress.js';

export interface PullOptions extends ManifestSourceOptions {
  /** Files restored in parallel (default 4). */
  concurrency?: number;
  /** Loader cache (default STOWAGE_CACHE_DIR, else node_modules/.cache/stowage in the app directory). */
  cacheDir?: string;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

export interface PulledFile {
  path: string;
  size: number;
  /** "existing": already right on disk; "cache": from the loader cache; "download": fetched now. */
  source: 'existing' | 'cache' | 'download';
  /** Where the bytes are read from: the manifest's storage, or the entry's own pinned source URL. */
  from: 'storage' | 'source';
  /** The pinned URL a mirrored entry was copied from, or the source a "source" entry reads. */
  origin?: string;
}

export interface PullResult {
  storage: string;
  files: PulledFile[];
  /** Files written to their path (downloaded or from the cache). */
  restored: number;
  restoredBytes: number;
  downloaded: number;
  present: number;
}

/** Restores every file of the manifest to its original path with loadArtifacts(), verified by sha256. */
export async function pull(options: PullOptions = {}): Promise<PullResult> {
  const env = options.env ?? process.env;
  // Offline, storage is never asked (the loader uses its cache only).
  const offline = env.STOWAGE_OFFLINE === '1' || env.STOWAGE_OFFLINE === 'true';
  const { cwd, manifest, storage, url } = await openManifestSource(options, { checkAccess: !offline });
  const progress = options.progress ?? silentProgress;
  const sizes = new Map(manifest.files.map((e) => [e.path, e.size]));
  const announced = new Set<string>();
  progress.begin(
    'pulling',
    manifest.files.reduce((sum, e) => sum + e.size, 0),
    manifest.files.length,
  );
  let restored: Awaited<ReturnType<typeof loadArtifacts>>;
  try {
    restored = await loadArtifacts({
      root: cwd,
      manifest,
      ...(storage ? { storage } : {}),
      cacheDir: options.cacheDir ?? defaultCacheDir(env, cwd),
      parallelFiles: options.concurrency ?? 4,
      ...hubOptionsFrom(env),
      offline,
      // A reporter that shows bytes live (the terminal's bar) replaces the loader's periodic lines.
      ...(progress.fileBytes ? { progressInterval: 0 } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (status) => {
        if (status.state === 'downloading') progress.fileBytes?.(status.name, status.bytes);
        if (status.state !== 'ready' || announced.has(status.name)) return;
        announced.add(status.name);
        progress.fileDone(status.name, sizes.get(status.name) ?? 0, status.cached ? 'present' : 'restored');
      },
    });
  } finally {
    progress.end();
  }
  const entries = new Map(manifest.files.map((e) => [e.path, e]));
  const files = restored
    .map((r): PulledFile => {
      const entry = entries.get(r.path);
      const origin = entry?.source ?? entry?.origin;
      return {
        path: r.path,
        size: r.size,
        source: r.source,
        from: entry?.source !== undefined ? 'source' : 'storage',
        ...(origin !== undefined ? { origin } : {}),
      };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const written = files.filter((f) => f.source !== 'existing');
  return {
    storage: url,
    files,
    restored: written.length,
    restoredBytes: written.reduce((sum, f) => sum + f.size, 0),
    downloaded: files.filter((f) => f.source === 'download').length,
    present: files.length - written.length,
  };
}
