/**
 * Requests parked while artifacts load. Each one leaves by exactly one door:
 * the load settles (release), its bound runs out (timeout), or its client
 * goes away (dropped, nothing to answer). Leaving clears its timer and its
 * close listener, so nothing outlives a request.
 */

/** What a held response needs: a 'close' event, as node:http's ServerResponse has. */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

interface Held {
  timer: NodeJS.Timeout;
  onClose: () => void;
  release: () => void;
}

export class HeldRequests {
  readonly #held = new Set<Held>();

  constructor(
    private readonly ms: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.#held.size;
  }

  /**
   * Parks a request: `release` runs when releaseAll() is called, `timeout`
   * after the bound. Returns false (and parks nothing) when `max` are held.
   */
  hold(res: Closable, release: () => void, timeout: () => void): boolean {
    if (this.#held.size >= this.max) return false;
    const entry: Held = {
      timer: setTimeout(() => this.#leave(entry, res) && timeout(), this.ms),
      onClose: () => this.#leave(entry, res),
      release: () => this.#leave(entry, res) && release(),
    };
    this.#held.add(entry);
    res.once('close', entry.onClose);
    return true;
  }

  /** Lets every held request go on (the load settled). */
  releaseAll(): void {
    for (const entry of [...this.#held]) entry.release();
  }

  /** True if the entry was still held (so its door is the one that answers). */
  #leave(entry: Held, res: Closable): boolean {
    if (!this.#held.delete(entry)) return false;
    clearTimeout(entry.timer);
    res.removeListener('close', entry.onClose);
    return true;
  }
}
