import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { upload } from '../../src/express/upload/index.js';
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

/** Every file (not directory) under dir, temp files and sidecars included. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

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

  it('upload() into a full disk answers 507 DISK_FULL, without Retry-After, leaving nothing behind', async (ctx) => {
    if (!mounted) {
      console.warn('skipped: mounting a tmpfs (a small disk) needs root / CAP_SYS_ADMIN');
      ctx.skip();
      return;
    }
    const storage = new LocalStorage({ root });
    const before = await filesUnder(root);
    const app = express();
    app.post('/upload', upload(storage, { maxFileSize: 4 << 20 }), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(errorHandler({ log: false }));
    const res = await supertest(app)
      .post('/upload')
      .attach('file', Buffer.alloc(1 << 20, 2), {
        filename: 'big.bin',
        contentType: 'application/octet-stream',
      });
    expect(res.status).toBe(507);
    expect(res.body.error.code).toBe('DISK_FULL');
    expect(res.headers['retry-after']).toBeUndefined();
    expect(await filesUnder(root)).toEqual(before);
  });
});
