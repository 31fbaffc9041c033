/**
 * Concurrent calls for one key share one in-flight promise, so a burst of
 * misses for a cold object makes one origin request, not one per client.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const started = (async () => {
      try {
        return await work();
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, started);
    return started;
  }

  /** Number of keys with work in flight (for stats and tests). */
  get size(): number {
    return this.inFlight.size;
  }
}
