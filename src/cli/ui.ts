import type cliProgressModule from 'cli-progress';
import { redact } from '../redact.js';
import { formatBytes } from './format.js';
import { lazyRequire } from './lazy-require.js';
import type { ProgressReporter } from './progress.js';
import { silentProgress } from './progress.js';

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
  }

  style(text: string, ...styles: Style[]): string {
    if (!this.color || styles.length === 0) return text;
    return `\u001b[${styles.map((s) => ANSI[s]).join(';')}m${text}\u001b[0m`;
  }

  /** A result line on stdout (suppressed in --json mode: the JSON document is the output). */
  line(text = ''): void {
    if (!this.json) this.io.stdout.write(`${redact(text)}\n`);
  }

  /** A diagnostic on stderr, shown in every mode. */
  warn(text: string): void {
    this.io.stderr.write(`${redact(text)}\n`);
  }

  error(text: string): void {
    this.io.stderr.write(`${this.styleErr('error:')} ${redact(text)}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
  }

  private styleErr(text: string): string {
    return this.io.stderr.isTTY && this.color ? `\u001b[31m${text}\u001b[0m` : text;
  }

  progress(): ProgressReporter {
    if (this.json) return silentProgress;
    return this.interactive ? new BarProgress(this.io.stderr) : new LineProgress(this.io.stderr);
  }
}

/** Above this many files, plain progress prints a line per tenth instead of per file. */
const PER_FILE_LINES = 100;

/** Plain lines, one per finished file: reads well in CI and `heroku logs`. */
class LineProgress implements ProgressReporter {
  private phase = '';
  private files = 0;
  private done = 0;

  constructor(private readonly out: OutputStream) {}

  begin(phase: string, total: number, files: number): void {
    this.phase = phase;
    this.files = files;
    this.done = 0;
    if (files > 0) this.out.write(`${phase}: ${files} file(s), ${formatBytes(total)}\n`);
  }

  fileDone(path: string, bytes: number, note?: string): void {
    this.done++;
    // Every file for small runs; for big ones, a line per tenth keeps logs readable.
    const step = Math.ceil(this.files / 10);
    if (this.files > PER_FILE_LINES && this.done % step !== 0 && this.done !== this.files) return;
    const line = `  [${this.done}/${this.files}] ${note ?? this.phase} ${path} (${formatBytes(bytes)})`;
    this.out.write(`${redact(line)}\n`);
  }

  end(): void {}
}

const cliProgress = lazyRequire<typeof cliProgressModule>('cli-progress');

/** A cli-progress bar over bytes, on stderr so stdout stays clean for results. */
class BarProgress implements ProgressReporter {
  private bar: cliProgressModule.SingleBar | undefined;
  private files = 0;
  private done = 0;

  constructor(private readonly out: OutputStream) {}

  begin(phase: string, total: number, files: number): void {
    this.end();
    if (files === 0) return;
    this.files = files;
    this.done = 0;
    const { SingleBar, Presets } = cliProgress();
    this.bar = new SingleBar(
      {
        format: `${phase.padEnd(10)} {bar} {percentage}% | {files} | {size}`,
        stream: this.out as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      Presets.shades_classic,
    );
    this.bar.start(Math.max(total, 1), 0, { files: `0/${files}`, size: `0 B/${formatBytes(total)}` });
    this.totalBytes = total;
  }

  private totalBytes = 0;
  private bytes = 0;

  fileDone(_path: string, bytes: number): void {
    this.done++;
    this.bytes += bytes;
    this.bar?.increment(bytes, {
      files: `${this.done}/${this.files}`,
      size: `${formatBytes(this.bytes)}/${formatBytes(this.totalBytes)}`,
    });
  }

  end(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.bytes = 0;
  }
}
