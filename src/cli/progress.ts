import { formatBytes } from '../util/bytes.js';
import { redact } from '../util/redact.js';
import type { StatusLine } from './status-line.js';

/**
 * How long-running commands report progress. The command logic calls these
 * hooks; the UI decides whether they become a bar (TTY), plain lines (CI,
 * pipes, `heroku logs`) or nothing (`--json`).
 */
export interface ProgressReporter {
  /** A phase starts: `total` units (bytes) over `files` files. */
  begin(phase: string, total: number, files: number): void;
  /** Bytes of `path` done so far, while it transfers (reporters that show bytes live implement it). */
  fileBytes?(path: string, bytes: number): void;
  /** One file finished its phase; `bytes` counts toward the total. */
  fileDone(path: string, bytes: number, note?: string): void;
  end(): void;
}

export const silentProgress: ProgressReporter = {
  begin: () => undefined,
  fileDone: () => undefined,
  end: () => undefined,
};

/** Above this many files, plain progress prints a line per tenth instead of per file. */
const PER_FILE_LINES = 100;

/** Plain lines, one per finished file: reads well in CI and `heroku logs`. */
export class LineProgress implements ProgressReporter {
  private phase = '';
  private files = 0;
  private done = 0;

  constructor(private readonly write: (text: string) => void) {}

  begin(phase: string, total: number, files: number): void {
    this.phase = phase;
    this.files = files;
    this.done = 0;
    if (files > 0) this.write(`${phase}: ${files} file(s), ${formatBytes(total)}\n`);
  }

  fileDone(path: string, bytes: number, note?: string): void {
    this.done++;
    // Every file for small runs; for big ones, a line per tenth keeps logs readable.
    const step = Math.ceil(this.files / 10);
    if (this.files > PER_FILE_LINES && this.done % step !== 0 && this.done !== this.files) return;
    const line = `  [${this.done}/${this.files}] ${note ?? this.phase} ${path} (${formatBytes(bytes)})`;
    this.write(`${redact(line)}\n`);
  }

  end(): void {}
}

const BAR_WIDTH = 30;

/**
 * A bar over bytes on the terminal's status line: lines written meanwhile
 * (log lines, warnings) appear above it, and it stays as the last line of
 * its phase when the phase ends.
 */
export class BarProgress implements ProgressReporter {
  private phase: string | undefined;
  private total = 0;
  private files = 0;
  private done = 0;
  private doneBytes = 0;
  private readonly inFlight = new Map<string, number>();
  private inFlightBytes = 0;

  constructor(private readonly status: StatusLine) {}

  begin(phase: string, total: number, files: number): void {
    this.end();
    if (files === 0) return;
    this.phase = phase;
    this.total = total;
    this.files = files;
    this.done = 0;
    this.doneBytes = 0;
    this.render();
  }

  fileBytes(path: string, bytes: number): void {
    if (this.phase === undefined) return;
    this.inFlightBytes += bytes - (this.inFlight.get(path) ?? 0);
    this.inFlight.set(path, bytes);
    this.render();
  }

  fileDone(path: string, bytes: number): void {
    if (this.phase === undefined) return;
    this.inFlightBytes -= this.inFlight.get(path) ?? 0;
    this.inFlight.delete(path);
    this.done++;
    this.doneBytes += bytes;
    this.render();
  }

  end(): void {
    if (this.phase === undefined) return;
    this.render();
    this.status.done();
    this.phase = undefined;
    this.inFlight.clear();
    this.inFlightBytes = 0;
  }

  private render(): void {
    const bytes = Math.min(this.total, this.doneBytes + this.inFlightBytes);
    const ratio = this.total > 0 ? bytes / this.total : this.done / this.files;
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = '\u2588'.repeat(filled) + '\u2591'.repeat(BAR_WIDTH - filled);
    const size = `${formatBytes(bytes)}/${formatBytes(this.total)}`;
    this.status.show(
      `${(this.phase ?? '').padEnd(10)} ${bar} ${Math.floor(ratio * 100)}% | ${this.done}/${this.files} | ${size}`,
    );
  }
}
