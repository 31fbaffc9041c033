/** One part's bytes, in a pooled buffer that goes back to the pool on release(). */
export interface Part {
  data: Buffer;
  /** No bytes follow this part (the body ended, and was verified, right after it). */
  last: boolean;
  release(): void;
}

/**
 * Cuts a body into parts of exactly `partSize` bytes (the last may be
 * shorter) by copying chunks into a few reused buffers. Memory stays at
 * buffers × partSize whatever the body's chunking, with no per-part
 * concatenation and no garbage for the collector to lag behind on.
 * The caller bounds the buffers in use (parts in flight + the one filling).
 */
export class PartReader {
  private readonly free: Buffer[] = [];
  /** A chunk read past the end of the previous part: the start of the next. */
  private carry: Buffer | undefined;
  private ended = false;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly partSize: number,
  ) {}

  /** The next part; `last` is known exactly because one chunk is read ahead. */
  async next(): Promise<Part> {
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.partSize);
    let filled = 0;
    while (filled < this.partSize && !this.ended) {
      const chunk = this.carry ?? (await this.pull());
      this.carry = undefined;
      if (!chunk) break;
      const take = Math.min(chunk.length, this.partSize - filled);
      chunk.copy(buffer, filled, 0, take);
      filled += take;
      if (take < chunk.length) this.carry = chunk.subarray(take);
    }
    if (!this.carry && !this.ended) this.carry = await this.pull();
    let released = false;
    return {
      data: buffer.subarray(0, filled),
      last: this.ended && !this.carry,
      release: () => {
        if (released) return;
        released = true;
        this.free.push(buffer);
      },
    };
  }

  private async pull(): Promise<Buffer | undefined> {
    for (;;) {
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        return undefined;
      }
      if (next.value.length > 0) return next.value;
    }
  }
}
