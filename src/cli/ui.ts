import type { Logger } from '../util/log.js';
import { redact } from '../util/redact.js';
import { BarProgress, LineProgress, type ProgressReporter, silentProgress } from './progress.js';
import { StatusLine } from './status-line.js';

/** The streams and environment a command runs with; tests pass their own. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
type Style = keyof typeof ANSI;

/**
 * Output policy in one place: colours and bars only on an interactive
 * terminal (not when CI=true, not with NO_COLOR, never with --json), and
 * every line scrubbed of secrets.
 */
export class Ui {
  readonly json: boolean;
  readonly interactive: boolean;
  readonly color: boolean;
  /** stderr, with the progress bar (if any) kept below whatever else is written there. */
  private readonly stderrLines: StatusLine;

  constructor(
    readonly io: CliIO,
    options: { json?: boolean } = {},
  ) {
    this.json = options.json === true;
    const ci = io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false' && io.env.CI !== '0';
    this.interactive = io.stderr.isTTY === true && !ci && !this.json;
    this.color =
      io.stdout.isTTY === true &&
      !ci &&
      !this.json &&
      io.env.NO_COLOR === undefined &&
      io.env.TERM !== 'dumb';
    this.stderrLines = new StatusLine(io.stderr);
  }

  style(text: string, ...styles: Style[]): string {
    if (!this.color || styles.length === 0) return text;
    return `\u001b[${styles.map((s) => ANSI[s]).join(';')}m${text}\u001b[0m`;
  }

  /** A result line on stdout (suppressed in --json mode: the JSON document is the output). */
  line(text = ''): void {
    if (this.json) return;
    const write = () => this.io.stdout.write(`${redact(text)}\n`);
    // stdout on the terminal the bar is on: keep the bar below this line too.
    if (this.io.stdout.isTTY) this.stderrLines.around(write);
    else write();
  }

  /** A diagnostic on stderr, shown in every mode. */
  warn(text: string): void {
    this.stderrLines.write(`${redact(text)}\n`);
  }

  error(text: string): void {
    this.stderrLines.write(`${this.styleErr('error:')} ${redact(text)}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
  }

  private styleErr(text: string): string {
    return this.io.stderr.isTTY && this.color ? `\u001b[31m${text}\u001b[0m` : text;
  }

  progress(): ProgressReporter {
    if (this.json) return silentProgress;
    return this.interactive
      ? new BarProgress(this.stderrLines)
      : new LineProgress((t) => this.stderrLines.write(t));
  }

  /** Where the library's log lines (the loader's, storage warnings) go while a command runs: above any bar. */
  logger(): Logger {
    const write = (message: string) => this.stderrLines.write(`${message}\n`);
    return { info: write, warn: write };
  }
}
