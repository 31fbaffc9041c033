import { InvalidArgumentError } from 'commander';
import { parseSize } from '../../util/bytes.js';
import type { ExitCode } from '../exit-codes.js';
import type { CliIO, Ui } from '../ui.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0    success (verify: everything matches)
  1    failure (verify: a mismatch)
  2    usage error (unknown option, missing or invalid argument)
  3    storage not configured or not reachable (no URL, bad credentials, missing bucket)
  130  interrupted`;

/** Runs one command's body with its UI, turning a failure into an exit code and an error line. */
export type Runner = (
  opts: Record<string, unknown>,
  body: (ui: Ui, io: CliIO, signal: AbortSignal | undefined) => Promise<ExitCode>,
) => Promise<void>;

/** What every `defineX` needs: the runner and the terminal it writes to. */
export interface CommandContext {
  run: Runner;
  io: CliIO;
  signal: AbortSignal | undefined;
}

/** `{ signal }` when there is one, so options objects never carry `signal: undefined`. */
export function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

export function sizeArg(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined) throw new InvalidArgumentError('expected a size such as 500kB, 1MB or 1048576.');
  return bytes;
}

export function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

export function hoursArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of hours, 0 or more.');
  return n;
}
