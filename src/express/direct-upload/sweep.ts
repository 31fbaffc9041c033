import { checkOptionsObject, invalidArg } from '../../args.js';
import { throwIfAborted } from '../../errors.js';
import type { Storage } from '../../types.js';
import { checkPrefix } from '../upload/naming.js';
import { DEFAULT_STAGING_PREFIX } from '../upload/staging.js';

export interface SweepOptions {
  /** Staging prefix to clean (default ".staging", as upload() and directUpload() use). */
  prefix?: string;
  /** Delete staged objects last modified more than this many hours ago (default 24). */
  olderThanHours?: number;
  /** List what would go, delete nothing. */
  dryRun?: boolean;
  /**
   * Backend-specific extra cleanup, e.g. aborting S3 multipart uploads
   * started before `cutoff` (the Storage contract has no notion of them).
   * Returns how many it aborted.
   */
  abortStaleMultipart?: (cutoff: Date, prefix: string) => Promise<number>;
  /** The current time (tests, reproducible dry runs); default now. */
  now?: Date;
  signal?: AbortSignal;
}

export interface SweepReport {
  /** Keys deleted (or, with dryRun, that would be). */
  deleted: string[];
  /** Staged objects young enough to keep. */
  kept: number;
  /** Staged objects whose age the backend does not report: left alone. */
  unknownAge: number;
  /** From abortStaleMultipart, when given. */
  abortedMultipart?: number;
}

/**
 * Deletes staged uploads older than N hours: bytes a client sent but never
 * confirmed, or that a crash left behind. Run it from a scheduled job
 * (`stowage sweep`).
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
  if (options.now !== undefined && !(options.now instanceof Date && Number.isFinite(options.now.getTime())))
    throw invalidArg('options.now must be a valid Date');
  if (options.abortStaleMultipart !== undefined && typeof options.abortStaleMultipart !== 'function')
    throw invalidArg('options.abortStaleMultipart must be a function');
  const cutoff = new Date((options.now ?? new Date()).getTime() - hours * 3_600_000);
  const report: SweepReport = { deleted: [], kept: 0, unknownAge: 0 };
  const doomed: string[] = [];
  // Collect first, delete after: deleting while paging can make some backends skip entries.
  for await (const info of storage.list(`${prefix}/`, options.signal ? { signal: options.signal } : {})) {
    if (!info.lastModified) report.unknownAge++;
    else if (info.lastModified.getTime() < cutoff.getTime()) doomed.push(info.key);
    else report.kept++;
  }
  for (const key of doomed) {
    throwIfAborted(options.signal);
    if (!options.dryRun) await storage.delete(key);
    report.deleted.push(key);
  }
  if (options.abortStaleMultipart && !options.dryRun) {
    report.abortedMultipart = await options.abortStaleMultipart(cutoff, `${prefix}/`);
  }
  return report;
}
