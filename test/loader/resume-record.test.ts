import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumableBytes } from '../../src/loader/download.js';
import { removeDir, tempDir } from './fixtures.js';

const SIZE = 4000;
const PART = 1000;

/** What a crashed run leaves: the partial file and the record of its finished parts. */
async function crashedRun(partialPath: string, version: { etag?: string; lastModified?: string }) {
  await writeFile(partialPath, Buffer.alloc(SIZE, 1));
  await writeFile(
    `${partialPath}.json`,
    JSON.stringify({ v: 1, size: SIZE, partSize: PART, done: [0, 1], ...version }),
  );
}

describe('resuming a partial download', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('keeps finished parts of the same version (ETag or Last-Modified)', async () => {
    const partial = join(dir, 'a.part');
    await crashedRun(partial, { etag: '"v1"' });
    expect(await resumableBytes(partial, { size: SIZE, acceptsRanges: true, etag: '"v1"' }, PART)).toBe(
      2 * PART,
    );
    expect(await resumableBytes(partial, { size: SIZE, acceptsRanges: true, etag: '"v2"' }, PART)).toBe(0);
    const dated = join(dir, 'b.part');
    const lastModified = 'Sun, 22 Nov 2026 06:00:00 GMT';
    await crashedRun(dated, { lastModified });
    expect(await resumableBytes(dated, { size: SIZE, acceptsRanges: true, lastModified }, PART)).toBe(
      2 * PART,
    );
  });

  it('starts over when the server names no version: same size is no proof of the same bytes', async () => {
    const partial = join(dir, 'c.part');
    await crashedRun(partial, {});
    expect(await resumableBytes(partial, { size: SIZE, acceptsRanges: true }, PART)).toBe(0);
  });
});
