import { type ErrorCode, isStowageError } from '../core/errors.js';

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

/** The exit code of each error code (the README's error table); errors that are not StowageErrors fail with 1. */
const EXIT_OF: Record<ErrorCode, ExitCode> = {
  NOT_FOUND: EXIT.FAILURE,
  INVALID_KEY: EXIT.FAILURE,
  INVALID_ARGUMENT: EXIT.USAGE,
  INVALID_RANGE: EXIT.FAILURE,
  CHECKSUM_MISMATCH: EXIT.FAILURE,
  TOO_LARGE: EXIT.FAILURE,
  UNSUPPORTED_TYPE: EXIT.FAILURE,
  ACCESS_DENIED: EXIT.STORAGE,
  UNAVAILABLE: EXIT.STORAGE,
  DISK_FULL: EXIT.FAILURE,
  ABORTED: EXIT.INTERRUPTED,
  NOT_SUPPORTED: EXIT.STORAGE,
  INTERNAL: EXIT.FAILURE,
};

/** Maps an error to the exit code a script should see. */
export function exitCodeFor(err: unknown): ExitCode {
  return isStowageError(err) ? EXIT_OF[err.code] : EXIT.FAILURE;
}

/**
 * The command-line names of the options the programmatic API names in its
 * INVALID_ARGUMENT messages: the API says `options.minSize`, the CLI user
 * typed `--min-size`.
 */
const FLAG_OF: Record<string, string> = {
  'options.to': '--to <storage-url>',
  'options.from': '--from <storage-url>',
  'options.url': '<storage-url>',
  'options.minSize': '--min-size',
  'options.concurrency': '--concurrency',
  'options.verify': '--verify',
  'options.untrack': '--untrack',
  'options.olderThanHours': '--older-than-hours',
  'options.prefix': '--prefix',
  'options.manifest': '--manifest',
};

/** An error's message as the CLI prints it: in the words of the command line. */
export function cliMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!isStowageError(err, 'INVALID_ARGUMENT')) return message;
  return message.replace(/\boptions\.[A-Za-z]+/g, (name) => FLAG_OF[name] ?? name);
}
