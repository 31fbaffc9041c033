import { join } from 'node:path';
import { StowageError, throwIfAborted } from '../core/errors.js';
import type { Storage } from '../core/types.js';
import {
  type Manifest,
  type ManifestEntry,
  mergeManifests,
  serializeManifest,
  writeManifest,
} from '../loader/manifest.js';
import { fileBody } from './file-body.js';
import { gitUntrack } from './git.js';
import type { MigrateAssetsResult, PlannedFile, UploadVerification } from './migrate-assets.js';
import { connect, type MigrationPlan } from './migrate-plan.js';
import type { MigrateRun } from './migrate-validate.js';
import { runPool } from './pool.js';
import { addToSlugignore } from './slugignore.js';
import type { StorageTarget } from './storage-target.js';
import { checkStoredObject } from './verify-object.js';

/**
 * Carries out a plan: uploads what storage lacks (each verified), then
 * records the manifest and .slugignore, and untracks on request. Counts
 * into `result` as it goes, so a failed run still says what it uploaded.
 */
export async function applyMigration(
  run: MigrateRun & { target: StorageTarget },
  plan: MigrationPlan,
  result: MigrateAssetsResult,
): Promise<void> {
  const { cwd, target, progress } = run;
  const toUpload = plan.files.filter((f) => f.action === 'upload');
  // Planning asked storage about every file to upload, so it is open whenever there is one.
  const storage = toUpload.length > 0 ? (plan.storage ?? (await connect(target))) : undefined;
  progress.begin(
    'uploading',
    toUpload.reduce((sum, f) => sum + f.size, 0),
    toUpload.length,
  );
  try {
    await runPool(toUpload, run.concurrency, async (file) => {
      throwIfAborted(run.signal);
      await uploadAndVerify(storage as Storage, cwd, file, {
        immutable: !run.keepPaths,
        verify: run.verify,
        signal: run.signal,
      });
      plan.cache.markStored(target.url, file.key, file.sha256);
      result.uploaded++;
      result.uploadedBytes += file.size;
      progress.fileDone(file.path, file.size, 'uploaded');
    });
  } finally {
    progress.end();
    // Saved even after a failure: a resumed run neither re-hashes nor re-asks about what is done.
    await plan.cache.save();
  }

  // Interrupted after the uploads: write nothing rather than a manifest the user did not let finish.
  throwIfAborted(run.signal);
  const update: Manifest = { version: 1, storage: target.url, files: plan.files.map(toManifestEntry) };
  const merged = plan.existing ? mergeManifests(plan.existing, update) : update;
  if (!plan.existing || serializeManifest(plan.existing) !== serializeManifest(merged)) {
    await writeManifest(merged, run.manifestPath);
  }
  result.slugignoreAdded = await addToSlugignore(
    cwd,
    plan.files.map((f) => f.path),
  );
  if (run.untrack) {
    result.untracked = plan.files.filter((f) => plan.tracked.has(f.path)).map((f) => f.path);
    await gitUntrack(cwd, result.untracked);
  }
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
