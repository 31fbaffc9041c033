import { StowageError } from '../core/errors.js';
import { formatBytes } from '../util/bytes.js';
import type { FileProgress } from './progress.js';

/**
 * A floor under a download's rate. A dropped connection that delivered
 * bytes resets the retry count (a flaky link is not a dead one), so a source
 * that cuts or stalls every response a little further on never runs out of
 * retries: it only crawls. Every `windowMs` this counts the bytes that
 * arrived in the window; fewer than minRate × window fails the download
 * through `signal`, with `error` naming the file and the bound.
 */
export class RateFloor {
  error: StowageError | undefined;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(progress: FileProgress, minRate: number, windowMs: number) {
    if (minRate === 0) return;
    const floor = (minRate * windowMs) / 1000;
    let counted = progress.received;
    this.timer = setInterval(() => {
      const got = progress.received - counted;
      counted = progress.received;
      // Every byte is in: what remains (the last of the hashing) is not the source's doing.
      if (got >= floor || (progress.total !== undefined && progress.bytes >= progress.total)) return;
      this.error = new StowageError(
        'UNAVAILABLE',
        `${progress.name}: only ${formatBytes(got)} arrived in the last ${windowMs / 1000} s, below minRate ${formatBytes(minRate)}/s; the source is too slow or keeps cutting connections (lower minRate, or 0 turns the check off)`,
        { retryable: true },
      );
      this.stop();
      this.controller.abort(this.error);
    }, windowMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
