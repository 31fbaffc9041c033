import { describe, expect, it } from 'vitest';
import { type Part, PartReader } from '../../adapters/s3/part-reader.js';
import { randomData } from '../helpers/streams.js';

/** Feeds `data` in chunks of `chunk` bytes and collects every part (copied out before release). */
async function cut(
  data: Buffer,
  partSize: number,
  chunk: number,
): Promise<Array<{ data: Buffer; last: boolean }>> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  }
  const reader = new PartReader(chunks(), partSize);
  const parts: Array<{ data: Buffer; last: boolean }> = [];
  for (;;) {
    const part: Part = await reader.next();
    parts.push({ data: Buffer.from(part.data), last: part.last });
    part.release();
    if (part.last) return parts;
  }
}

describe('PartReader: cuts a body into exact parts through reused buffers', () => {
  it.each([
    ['empty body', 0, 1],
    ['one byte', 1, 1],
    ['exactly one part', 100, 7],
    ['one part and a byte', 101, 7],
    ['exactly three parts', 300, 64],
    ['chunks larger than a part', 1_000, 450],
    ['one chunk holding the whole body', 950, 950],
  ])('%s', async (_name, size, chunk) => {
    const data = randomData(size);
    const parts = await cut(data, 100, chunk);
    expect(Buffer.concat(parts.map((p) => p.data)).equals(data)).toBe(true);
    // Every part but the last is exactly partSize; only the last says so.
    for (const part of parts.slice(0, -1)) expect(part).toMatchObject({ last: false });
    for (const part of parts.slice(0, -1)) expect(part.data.length).toBe(100);
    expect(parts.at(-1)?.last).toBe(true);
    expect(parts.length).toBe(Math.max(1, Math.ceil(size / 100)));
  });

  it('reuses released buffers instead of allocating new ones', async () => {
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(100, i);
    }
    const reader = new PartReader(chunks(), 100);
    const seen = new Set<ArrayBufferLike>();
    for (;;) {
      const part = await reader.next();
      seen.add(part.data.buffer);
      part.release();
      if (part.last) break;
    }
    expect(seen.size).toBe(1);
  });
});
