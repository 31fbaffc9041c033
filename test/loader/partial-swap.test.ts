import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../src/loader/cache.js';
import { loadModel } from '../../src/loader/index.js';
import { expectCode } from '../helpers/streams.js';
import { CountingStorage } from './counting-storage.js';
import { blob, removeDir, tempDir } from './fixtures.js';

/**
 * The partial file's path is shared by every run for a blob, so a restart
 * can resume it. The lock keeps a second run away; should one get there
 * anyway (a live holder's lock judged stale), the first must not commit the
 * file it finds at the path, which is no longer the one it wrote and hashed.
 */
describe('loader: a partial download replaced under it', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('is not committed, and the other holder keeps its file', async () => {
    const storage = new CountingStorage({ root: join(dir, 'store') });
    const data = blob(400_000);
    await storage.put('m.bin', data.data);
    const cacheDir = join(dir, 'cache');
    storage.hold('gets');
    const load = loadModel(
      { storage, key: 'm.bin' },
      { cacheDir, sha256: data.sha256, partSize: 100_000, concurrency: 2, retries: 0, progressInterval: 0 },
    );
    load.catch(() => undefined);
    while (storage.gets === 0) await new Promise((r) => setTimeout(r, 10));
    const partial = new BlobCache(cacheDir).partialPath(data.sha256);
    // The other holder starts over at the same path: a new file of the same size.
    await unlink(partial);
    await writeFile(partial, Buffer.alloc(data.data.length, 7));
    storage.release();
    const err = await expectCode(load, 'UNAVAILABLE');
    expect(err.message).toContain('replaced by another process');
    await expect(stat(new BlobCache(cacheDir).blobPath(data.sha256))).rejects.toThrow();
    expect((await readFile(partial)).every((byte) => byte === 7)).toBe(true);
  });
});
