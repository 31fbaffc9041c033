/** One part's bytes, in a pooled buffer that goes back to the pool on release(). */
export interface Part {
  data: Buffer;
  /** No bytes follow this part (the body ended, and was verified, right after it). */
  last: boolean;
  release(): void;
}

/**
 * Cuts a body into parts of exactly `partSize` bytes (the last may be
 * shorter). A full part is copied into one of a few reused buffers, so memory
 * stays at buffers × partSize whatever the body's chunking, with no per-part
 * concatenation and no garbage for the collector to lag behind on. A short
 * last part (a whole small body, most often) gets a buffer of its own size:
 * a small put never allocates a whole part. The caller bounds the buffers in
 * use (parts in flight + the one filling).
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
    const pieces: Buffer[] = [];
    let filled = 0;
    while (filled < this.partSize && !this.ended) {
      const chunk = this.carry ?? (await this.pull());
      this.carry = undefined;
      if (!chunk) break;
      const take = Math.min(chunk.length, this.partSize - filled);
      pieces.push(take < chunk.length ? chunk.subarray(0, take) : chunk);
      filled += take;
      if (take < chunk.length) this.carry = chunk.subarray(take);
    }
    if (!this.carry && !this.ended) this.carry = await this.pull();
    const last = this.ended && !this.carry;
    if (filled < this.partSize) {
      const data = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, filled);
      return { data, last, release: () => {} };
    }
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.partSize);
    let offset = 0;
    for (const piece of pieces) offset += piece.copy(buffer, offset);
    let released = false;
    return {
      data: buffer,
      last,
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
