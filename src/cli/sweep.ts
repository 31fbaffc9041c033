import { type SweepReport, sweepStaged } from '../express/direct-upload/sweep.js';
import { resolveStorageTarget } from './storage-target.js';

export interface SweepCommandOptions {
  to?: string;
  env: NodeJS.ProcessEnv;
  prefix?: string;
  olderThanHours?: number;
  /** Abort stale multipart uploads anywhere in the storage, not only under the staging prefix. */
  allMultipart?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface SweepCommandResult extends SweepReport {
  storage: string;
  dryRun: boolean;
}

/**
 * `stowage sweep`: deletes staged uploads (upload() and directUpload() staging) older than
 * N hours and, on S3, aborts the multipart uploads under the staging prefix (with
 * allMultipart: anywhere in the storage) as old.
 */
export async function sweep(options: SweepCommandOptions): Promise<SweepCommandResult> {
  const target = resolveStorageTarget(options.to, options.env);
  const storage = await target.open();
  const report = await sweepStaged(storage, {
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.olderThanHours !== undefined ? { olderThanHours: options.olderThanHours } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    allMultipart: options.allMultipart === true,
    dryRun: options.dryRun === true,
  });
  return { ...report, storage: target.url, dryRun: options.dryRun === true };
}
