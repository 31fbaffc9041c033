import type { OutputStream } from './ui.js';

const CLEAR_LINE = '\r\u001b[2K';

/**
 * A terminal stream shared by whole lines and one live status line (the
 * progress bar) kept below them. A line is written after the status line is
 * erased, and the status line is drawn again under it, so neither overwrites
 * the other. The status line is cut to the terminal's width: a wrapped one
 * could not be erased. Only plain carriage returns and erase-line codes are
 * used, no cursor saving or scrolling regions, so the screen stays right
 * whatever else scrolls it.
 */
export class StatusLine {
  private status: string | undefined;

  constructor(private readonly out: OutputStream) {}

  /** Writes `text` (whole lines, each ending in "\n") above the status line. */
  write(text: string): void {
    this.around(() => this.out.write(text));
  }

  /** Runs `write` (output to the same terminal, e.g. stdout) with the status line out of the way. */
  around(write: () => void): void {
    if (this.status === undefined) {
      write();
      return;
    }
    this.out.write(CLEAR_LINE);
    write();
    this.draw();
  }

  /** Shows `text` as the status line, replacing the previous one. */
  show(text: string): void {
    const width = Math.max(10, (this.out.columns ?? 80) - 1);
    const fitted = text.length > width ? text.slice(0, width) : text;
    if (fitted === this.status) return;
    this.status = fitted;
    this.draw();
  }

  /** Leaves the last status line on screen as an ordinary line. */
  done(): void {
    if (this.status === undefined) return;
    this.status = undefined;
    this.out.write('\n');
  }

  private draw(): void {
    this.out.write(`${CLEAR_LINE}${this.status ?? ''}`);
  }
}
