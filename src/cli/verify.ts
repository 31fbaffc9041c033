import { join } from 'node:path';
import { digestFile } from '../integrity.js';
import type { ManifestEntry } from '../manifest.js';
import { type ManifestSourceOptions, openManifestSource } from './manifest-source.js';
import { runPool } from './pool.js';
import { type ProgressReporter, silentProgress } from './progress.js';
import { statFile } from './repo-files.js';
import { checkStoredObject } from './verify-object.js';

export type RemoteState = 'ok' | 'missing' | 'size' | 'sha256';
/** "absent": not restored locally (not a failure: `stowage pull` or the loader restores it). */
export type LocalState = 'ok' | 'absent' | 'size' | 'sha256';

export interface VerifiedFile {
  path: string;
  key: string;
  remote: RemoteState;
  /** How the stored sha256 was checked: from head, or by reading the object back. */
  remoteMethod?: 'head' | 'read-back';
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
    key: e.key ?? e.source,
    remote: 'ok',
    local: 'absent',
    problems: [],
  }));
  progress.begin(
    'verifying',
    manifest.files.reduce((sum, e) => sum + e.size, 0),
    files.length,
  );
  try {
    await runPool(manifest.files, options.concurrency ?? 8, async (entry, i) => {
      const out = files[i]!;
      // An entry with its own source (hf://…@commit) is not in this storage: the loader verifies it at boot.
      const remote =
        entry.key === undefined
          ? undefined
          : await checkStoredObject(storage, entry.key, entry, { deep: options.deep === true });
      if (remote?.ok) out.remoteMethod = remote.method;
      else if (remote) {
        out.remote = remote.problem;
        out.problems.push(`storage: ${remote.detail}`);
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
