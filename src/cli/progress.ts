/**
 * How long-running commands report progress. The command logic calls these
 * hooks; the UI decides whether they become a bar (TTY), plain lines (CI,
 * pipes, `heroku logs`) or nothing (`--json`).
 */
export interface ProgressReporter {
  /** A phase starts: `total` units (bytes) over `files` files. */
  begin(phase: string, total: number, files: number): void;
  /** One file finished its phase; `bytes` counts toward the total. */
  fileDone(path: string, bytes: number, note?: string): void;
  end(): void;
}

export const silentProgress: ProgressReporter = {
  begin: () => undefined,
  fileDone: () => undefined,
  end: () => undefined,
};
