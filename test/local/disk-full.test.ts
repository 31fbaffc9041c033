import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { mountTmpfs, unmount } from '../helpers/small-disk.js';
import { expectCode } from '../helpers/streams.js';

// A real ENOSPC: the store's root is a 256 KiB tmpfs.
let dir: string;
let root: string;
let mounted = false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-diskfull-'));
  root = join(dir, 'root');
  await mkdir(root);
  mounted = mountTmpfs(root, '256k');
});
afterAll(async () => {
  if (mounted) unmount(root);
  await rm(dir, { recursive: true, force: true });
});

describe('LocalStorage on a full disk', () => {
  it('a put that fills the disk is DISK_FULL (507, not retryable), leaving nothing behind', async (ctx) => {
    if (!mounted) {
      console.warn('skipped: mounting a tmpfs (a small disk) needs root / CAP_SYS_ADMIN');
      ctx.skip();
      return;
    }
    const storage = new LocalStorage({ root });
    await storage.put('kept.txt', 'old bytes');
    const err = await expectCode(storage.put('kept.txt', Buffer.alloc(1 << 20, 1)), 'DISK_FULL');
    expect(err.status).toBe(507);
    expect(err.retryable).toBe(false);
    expect(err.key).toBe('kept.txt');
    expect(err.message).toContain('no space left');
    expect((await storage.head('kept.txt')).size).toBe(9);
    expect((await readdir(root)).sort()).toEqual(['.stowage.kept.txt.json', 'kept.txt']);
  });
});
