import { isStowageError } from '../errors.js';
import { type SweepReport, sweepStaged } from '../express/direct-upload/sweep.js';
import type { Storage } from '../types.js';
import { resolveStorageTarget } from './storage-target.js';

export interface SweepCommandOptions {
  to?: string;
  env: NodeJS.ProcessEnv;
  prefix?: string;
  olderThanHours?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface SweepCommandResult extends SweepReport {
  storage: string;
  dryRun: boolean;
  /** Why stale multipart uploads were not aborted, when the store cannot list them. */
  multipartNotSupported?: string;
}

/** A backend that can abort its stale multipart uploads (S3Storage). */
interface AbortsStaleUploads {
  abortStaleUploads(cutoff: Date, prefix: string, signal?: AbortSignal): Promise<number>;
}

function abortsStaleUploads(storage: Storage): storage is Storage & AbortsStaleUploads {
  return typeof (storage as Partial<AbortsStaleUploads>).abortStaleUploads === 'function';
}

/**
 * `stowage sweep`: deletes staged uploads (upload() and directUpload()
 * staging) older than N hours, and on S3 aborts stale multipart uploads.
 */
export async function sweep(options: SweepCommandOptions): Promise<SweepCommandResult> {
  const target = resolveStorageTarget(options.to, options.env);
  const storage = await target.open();
  let multipartNotSupported: string | undefined;
  const abortStale = async (cutoff: Date, prefix: string, s: AbortsStaleUploads): Promise<number> => {
    try {
      return await s.abortStaleUploads(cutoff, prefix, options.signal);
    } catch (err) {
      if (!isStowageError(err, 'NOT_SUPPORTED')) throw err;
      multipartNotSupported = err.message;
      return 0;
    }
  };
  const report = await sweepStaged(storage, {
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.olderThanHours !== undefined ? { olderThanHours: options.olderThanHours } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    dryRun: options.dryRun === true,
    ...(abortsStaleUploads(storage) && !options.dryRun
      ? { abortStaleMultipart: (cutoff: Date, prefix: string) => abortStale(cutoff, prefix, storage) }
      : {}),
  });
  const result: SweepCommandResult = { ...report, storage: target.url, dryRun: options.dryRun === true };
  if (multipartNotSupported) result.multipartNotSupported = multipartNotSupported;
  return result;
}
