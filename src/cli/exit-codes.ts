import { isStowageError } from '../errors.js';

/** Documented exit codes of the `stowage` CLI. Scripts switch on them: add, never renumber. */
export const EXIT = {
  /** Everything worked (and, for verify, everything matched). */
  OK: 0,
  /** The operation failed, or verify found a mismatch. */
  FAILURE: 1,
  /** Bad command line: unknown option, missing argument, invalid value. */
  USAGE: 2,
  /** Storage unreachable or misconfigured: no URL, missing or refused credentials, missing bucket, its SDK not installed. */
  STORAGE: 3,
  /** Interrupted (SIGINT). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Maps an error to the exit code a script should see. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (isStowageError(err)) {
    if (err.code === 'ACCESS_DENIED' || err.code === 'UNAVAILABLE') return EXIT.STORAGE;
    if (err.code === 'ABORTED') return EXIT.INTERRUPTED;
  }
  if (err instanceof StorageSetupError) return EXIT.STORAGE;
  return EXIT.FAILURE;
}

/** A command-line mistake the user fixes by changing the arguments (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Storage is not configured or not reachable (exit 3). */
export class StorageSetupError extends Error {
  override readonly name = 'StorageSetupError';
}
