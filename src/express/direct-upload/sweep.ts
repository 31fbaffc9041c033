import { checkOptionsObject, invalidArg } from '../../core/args.js';
import { isStowageError, throwIfAborted } from '../../core/errors.js';
import type { IncompleteUpload, Storage } from '../../core/types.js';
import { DEFAULT_STAGING_PREFIX } from '../../staging/staging.js';
import { checkPrefix } from '../upload/naming.js';

export interface SweepOptions {
  /** Staging prefix to clean (default ".staging", as upload() and directUpload() use). */
  prefix?: string;
  /** Sweep what is older than this many hours (default 24). */
  olderThanHours?: number;
  /**
   * Also abort the unfinished multipart uploads anywhere under the storage's root, not only under
   * the staging prefix, started before the same cutoff: a put() killed mid-write (a dyno restart,
   * SIGKILL) leaves one at the object's final key, billed until aborted. Keep the cutoff longer
   * than your longest upload: one still running and older than it would be aborted too.
   */
  allMultipart?: boolean;
  /** Report what would go, delete and abort nothing. */
  dryRun?: boolean;
  /** The current time (tests, reproducible dry runs); default now. */
  now?: Date;
  signal?: AbortSignal;
}

export interface SweepReport {
  /** Staged objects deleted (or, with dryRun, that would be). */
  deleted: string[];
  /** Staged objects young enough to keep. */
  kept: number;
  /** Staged objects whose age the backend does not report: left alone. */
  unknownAge: number;
  /**
   * Multipart uploads under `multipartPrefix` started before the cutoff, aborted (or, with
   * dryRun, that would be). Absent where the backend has none (local, memory, Cloudinary).
   */
  abortedUploads?: IncompleteUpload[];
  /** abortedUploads.length, when there. */
  abortedMultipart?: number;
  /**
   * Where multipart uploads were looked for, as a key prefix of the storage: the staging prefix
   * (".staging/"), or "" (everything under the storage's root) with allMultipart. With abortedUploads.
   */
  multipartPrefix?: string;
  /** Why multipart uploads were not swept: the store cannot list them (rely on a lifecycle rule). */
  multipartNotSupported?: string;
}

/**
 * Sweeps the staging prefix: deletes staged objects older than N hours (bytes a client sent
 * but never confirmed, or that a crash left behind) and, where the backend keeps multipart
 * uploads (S3), aborts those under the prefix (with allMultipart: under the whole storage)
 * started before the same cutoff. Run it from a scheduled job (`stowage sweep`).
 */
export async function sweepStaged(storage: Storage, options: SweepOptions = {}): Promise<SweepReport> {
  if (!storage || typeof storage.list !== 'function' || typeof storage.delete !== 'function') {
    throw invalidArg('sweepStaged(storage, options): storage must be a Storage, e.g. createStorage()');
  }
  checkOptionsObject(options, 'sweep options');
  const prefix = checkPrefix(options.prefix, 'options.prefix', DEFAULT_STAGING_PREFIX);
  if (prefix === '')
    throw invalidArg('options.prefix must not be empty: the sweeper would delete everything');
  const hours = options.olderThanHours ?? 24;
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0) {
    throw invalidArg('options.olderThanHours must be a number of hours, 0 or more');
  }
  if (options.allMultipart !== undefined && typeof options.allMultipart !== 'boolean')
    throw invalidArg('options.allMultipart must be a boolean');
  if (options.now !== undefined && !(options.now instanceof Date && Number.isFinite(options.now.getTime())))
    throw invalidArg('options.now must be a valid Date');
  const cutoff = new Date((options.now ?? new Date()).getTime() - hours * 3_600_000);
  const signal = options.signal;
  const report: SweepReport = { deleted: [], kept: 0, unknownAge: 0 };
  const doomed: string[] = [];
  // Collect first, delete after: deleting while paging can make some backends skip entries.
  for await (const info of storage.list(`${prefix}/`, signal ? { signal } : {})) {
    if (!info.lastModified) report.unknownAge++;
    else if (info.lastModified.getTime() < cutoff.getTime()) doomed.push(info.key);
    else report.kept++;
  }
  for (const key of doomed) {
    throwIfAborted(signal);
    if (!options.dryRun) await storage.delete(key);
    report.deleted.push(key);
  }
  if (storage.sweepIncompleteUploads) {
    // The root covers the staging prefix too: one listing, no upload counted twice.
    const multipartPrefix = options.allMultipart ? '' : `${prefix}/`;
    try {
      const swept = await storage.sweepIncompleteUploads(multipartPrefix, cutoff, {
        dryRun: options.dryRun === true,
        ...(signal ? { signal } : {}),
      });
      report.abortedUploads = swept;
      report.abortedMultipart = swept.length;
      report.multipartPrefix = multipartPrefix;
    } catch (err) {
      if (!isStowageError(err, 'NOT_SUPPORTED')) throw err;
      report.multipartNotSupported = err.message;
    }
  }
  return report;
}
