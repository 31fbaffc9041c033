import { access } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { StowageError } from '../../core/errors.js';
import { validateKey } from '../../core/keys.js';
import type { Storage } from '../../core/types.js';
import {
  MANIFEST_FILE,
  type Manifest,
  type ManifestEntry,
  mergeManifests,
  readManifest,
  writeManifest,
} from '../../loader/manifest.js';
import { type LoaderOptions, resolveLoaderOptions } from '../../loader/options.js';
import { hubOptionsFrom } from '../loader-env.js';
import { runPool } from '../pool.js';
import { type ProgressReporter, silentProgress } from '../progress.js';
import { checkStorageAccess, resolveStorageTarget } from '../storage-target.js';
import { type CopyAction, copyFile } from './copy-file.js';
import { expandSources, type PinnedFile } from './expand-sources.js';

export interface MirrorOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Storage URL to copy into; omitted: the lock entries read each file from its pinned source. */
  to?: string;
  /** A ready Storage for `to` (its URL is still what the lock records). */
  storage?: Storage;
  /** Lock file, relative to cwd (default stowage.lock.json). */
  manifest?: string;
  /** Folder the files are restored to, as lock paths: <prefix><name> (default: the app root). */
  prefix?: string;
  /** Files copied at the same time (default 4). */
  concurrency?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Loader settings for reading the sources (retries, partSize, headers, stallTimeout…). */
  loader?: LoaderOptions;
}

export interface MirroredFile {
  path: string;
  size: number;
  sha256: string | undefined;
  /** Key in the target; absent without --to. */
  key?: string;
  /** The pinned URL the bytes come from: the entry's origin (with --to) or source (without). */
  origin: string;
  action: CopyAction;
}

export interface MirrorResult {
  dryRun: boolean;
  /** Target storage without credentials; undefined without --to. */
  storage: string | undefined;
  manifest: string;
  files: MirroredFile[];
  copied: number;
  copiedBytes: number;
  present: number;
}

/**
 * Copies every file the sources name into `to`, verified, and records them
 * in the lock file with their origin, so boots read your storage, not the
 * source. Without `to`, records each file's pinned source instead (boots
 * fetch it from there, verified). The lock is written once, after every
 * file is in place; a failure leaves it as it was.
 */
export async function mirror(sources: string[], options: MirrorOptions = {}): Promise<MirrorResult> {
  if (
    !Array.isArray(sources) ||
    sources.length === 0 ||
    sources.some((s) => typeof s !== 'string' || !s.trim())
  ) {
    throw invalid('name at least one source, e.g. hf://org/repo@main/onnx/model.onnx');
  }
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const prefix = checkPrefix(options.prefix);
  const manifestName = options.manifest ?? MANIFEST_FILE;
  const manifestPath = isAbsolute(manifestName) ? manifestName : join(cwd, manifestName);
  const target = options.to === undefined ? undefined : resolveStorageTarget(options.to, env);
  const existing = await readExisting(manifestPath);
  if (target && existing?.storage && !sameStorage(existing.storage, target.url)) {
    throw invalid(
      `${manifestName} reads from ${existing.storage}, not ${target.url}; mirror into that storage, or write another lock file (options.manifest)`,
    );
  }
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const loader = {
    ...resolveLoaderOptions({ ...hubOptionsFrom(env), ...options.loader, signal }, env, cwd),
    cwd,
  };
  const storage = target ? (options.storage ?? (await target.open())) : undefined;
  if (storage && target && !options.storage) await checkStorageAccess(storage, target.url);

  const pinned = await expandSources(sources, loader);
  const paths = pinned.map((f) => validateKey(`${prefix}${f.path}`, 'lock path'));
  const dup = paths.find((p, i) => paths.indexOf(p) !== i);
  if (dup !== undefined) {
    throw invalid(`two sources give the same path ${dup}; mirror them with different options.prefix`);
  }

  const signed = target
    ? undefined
    : pinned.find((f) => /^https?:/i.test(f.fetch) && new URL(f.fetch).toString() !== f.source);
  if (signed) {
    throw invalid(
      `${signed.source} is a signed or credentialed URL: a lock cannot keep it (it expires, and git would hold the secret); mirror it into storage (options.to)`,
    );
  }
  const progress = options.progress ?? silentProgress;
  const files: MirroredFile[] = new Array(pinned.length);
  progress.begin(
    options.dryRun ? 'planning' : target ? 'mirroring' : 'pinning',
    pinned.reduce((sum, f) => sum + f.size, 0),
    pinned.length,
  );
  try {
    await runPool(pinned, options.concurrency ?? 4, async (file: PinnedFile, i) => {
      const path = paths[i]!;
      let bytes = 0;
      try {
        const outcome = await copyFile(file, {
          loader,
          target: storage,
          dryRun: options.dryRun === true,
          onBytes: (n) => {
            bytes += n;
            progress.fileBytes?.(path, bytes);
          },
        });
        files[i] = {
          path,
          size: file.size,
          sha256: outcome.sha256,
          ...(outcome.key ? { key: outcome.key } : {}),
          origin: file.source,
          action: outcome.action,
        };
        progress.fileDone(path, file.size, outcome.action);
      } catch (err) {
        stop.abort(err);
        throw err;
      }
    });
  } finally {
    progress.end();
  }

  if (!options.dryRun) {
    const update: Manifest = {
      version: 1,
      storage: target?.url ?? existing?.storage ?? '',
      files: files.map((f) => entryOf(f, target !== undefined)),
    };
    await writeManifest(existing ? mergeManifests(existing, update) : update, manifestPath);
  }
  const copied = files.filter((f) => f.action === 'copied');
  return {
    dryRun: options.dryRun === true,
    storage: target?.url,
    manifest: manifestName,
    files,
    copied: copied.length,
    copiedBytes: copied.reduce((sum, f) => sum + f.size, 0),
    present: files.filter((f) => f.action === 'present').length,
  };
}

/** A lock entry: read from the target's key (origin informational), or from the pinned source itself. */
function entryOf(f: MirroredFile, stored: boolean): ManifestEntry {
  const sha256 = f.sha256 as string;
  if (stored) return { path: f.path, key: f.key as string, size: f.size, sha256, origin: f.origin };
  return { path: f.path, source: f.origin, size: f.size, sha256 };
}

/** A mistake in the arguments: INVALID_ARGUMENT (exit 2), options named as the API names them. */
function invalid(message: string): StowageError {
  return new StowageError('INVALID_ARGUMENT', `mirror: ${message}`);
}

function checkPrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const trimmed = prefix.replace(/\/+$/, '');
  try {
    return `${validateKey(trimmed, 'options.prefix')}/`;
  } catch (err) {
    throw invalid(
      `options.prefix ${JSON.stringify(prefix)} is not a relative folder (${(err as Error).message})`,
    );
  }
}

async function readExisting(path: string): Promise<Manifest | undefined> {
  const present = await access(path).then(
    () => true,
    () => false,
  );
  return present ? readManifest(path) : undefined;
}

/** The same storage, whatever a trailing slash says. */
function sameStorage(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\/+(\?|$)/, '$1');
  return norm(a) === norm(b);
}
