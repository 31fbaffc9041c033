import { join } from 'node:path';
import { digestFile } from '../core/integrity.js';
import type { Storage } from '../core/types.js';
import type { ManifestEntry } from '../loader/manifest.js';
import { resolveLoaderOptions } from '../loader/options.js';
import { hubOptionsFrom } from './loader-env.js';
import { type ManifestSourceOptions, openManifestSource } from './manifest-source.js';
import { runPool } from './pool.js';
import { type ProgressReporter, silentProgress } from './progress.js';
import { statFile } from './repo-files.js';
import { checkStoredObject } from './verify-object.js';
import { checkSourceObject } from './verify-source.js';

export type RemoteState = 'ok' | 'missing' | 'size' | 'sha256';
/** "absent": not restored locally (not a failure: `stowage pull` or the loader restores it). */
export type LocalState = 'ok' | 'absent' | 'size' | 'sha256';

export interface VerifiedFile {
  path: string;
  /** Key in the manifest's storage (absent for an entry read from its own source). */
  key?: string;
  /** The pinned URL the entry reads from instead of storage. */
  source?: string;
  /** The pinned URL a mirrored entry was copied from (informational). */
  origin?: string;
  remote: RemoteState;
  /**
   * How the sha256 was checked: from head (storage) or the source's probe, or by
   * reading the bytes back; "size": a source that states no sha256, checked by size only (--deep hashes it).
   */
  remoteMethod?: 'head' | 'probe' | 'read-back' | 'size';
  local: LocalState;
  problems: string[];
}

export interface VerifyOptions extends ManifestSourceOptions {
  /** Parallel checks (default 8). */
  concurrency?: number;
  /** Read every object back and hash it, even when the backend reports a sha256 (catches bit rot). */
  deep?: boolean;
  progress?: ProgressReporter;
}

export interface VerifyResult {
  ok: boolean;
  storage: string;
  files: VerifiedFile[];
  mismatches: number;
}

/** Checks every manifest entry in storage (size, sha256) and any restored local copy. */
export async function verify(options: VerifyOptions = {}): Promise<VerifyResult> {
  const { cwd, manifest, storage, url } = await openManifestSource(options);
  const progress = options.progress ?? silentProgress;
  const files: VerifiedFile[] = manifest.files.map((e) => ({
    path: e.path,
    ...(e.key !== undefined ? { key: e.key } : { source: e.source }),
    ...(e.origin !== undefined ? { origin: e.origin } : {}),
    remote: 'ok',
    local: 'absent',
    problems: [],
  }));
  const loader = resolveLoaderOptions(
    hubOptionsFrom(options.env ?? process.env),
    options.env ?? process.env,
    cwd,
  );
  progress.begin(
    'verifying',
    manifest.files.reduce((sum, e) => sum + e.size, 0),
    files.length,
  );
  try {
    await runPool(manifest.files, options.concurrency ?? 8, async (entry, i) => {
      const out = files[i]!;
      const deep = options.deep === true;
      const remote =
        entry.source !== undefined
          ? await checkSourceObject(entry.source, entry, { deep, loader })
          : await checkStoredObject(storage as Storage, entry.key, entry, { deep });
      if (remote.ok) out.remoteMethod = remote.method;
      else {
        out.remote = remote.problem;
        out.problems.push(`${entry.source !== undefined ? 'source' : 'storage'}: ${remote.detail}`);
      }
      await checkLocal(cwd, entry, out);
      progress.fileDone(entry.path, entry.size, out.problems.length ? 'MISMATCH' : 'ok');
    });
  } finally {
    progress.end();
  }
  const mismatches = files.filter((f) => f.problems.length > 0).length;
  return { ok: mismatches === 0, storage: url, files, mismatches };
}

async function checkLocal(cwd: string, entry: ManifestEntry, out: VerifiedFile): Promise<void> {
  const local = await statFile(cwd, entry.path);
  if (!local) return;
  if (local.size !== entry.size) {
    out.local = 'size';
    out.problems.push(`local file: ${local.size} bytes, expected ${entry.size}`);
    return;
  }
  const { sha256 } = await digestFile(join(cwd, entry.path));
  if (sha256 !== entry.sha256) {
    out.local = 'sha256';
    out.problems.push(`local file: sha256 ${sha256}, expected ${entry.sha256}`);
    return;
  }
  out.local = 'ok';
}
