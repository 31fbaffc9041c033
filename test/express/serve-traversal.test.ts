import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStorage } from '../../adapters/local/index.js';
import {
  EXPRESS_VERSIONS,
  makeStorage,
  rawRequest,
  type Served,
  type StorageFixture,
  serveApp,
} from './serve/harness.js';

const SECRET = 'TOP SECRET: never served';

/** Paths below the mount that try to climb out of the store, in every encoding we know. */
const CORPUS = [
  '../secret.txt',
  '..%2fsecret.txt',
  '..%2Fsecret.txt',
  '%2e%2e/secret.txt',
  '%2e%2e%2fsecret.txt',
  '%2E%2E%2Fsecret.txt',
  '.%2e/secret.txt',
  'public/../../secret.txt',
  'public/%2e%2e/%2e%2e/secret.txt',
  'public%2f..%2f..%2fsecret.txt',
  '..%5csecret.txt',
  '%2e%2e%5csecret.txt',
  '..\\secret.txt',
  'public\\..\\..\\secret.txt',
  '%252e%252e%252fsecret.txt',
  '%252e%252e/secret.txt',
  '..%252fsecret.txt',
  '..%255csecret.txt',
  '%c0%ae%c0%ae/secret.txt',
  '%c0%ae%c0%ae%c0%afsecret.txt',
  '..%c0%afsecret.txt',
  '..%c1%9csecret.txt',
  '%e0%80%ae%e0%80%ae/secret.txt',
  '%f0%80%80%ae%f0%80%80%ae/secret.txt',
  '%u002e%u002e/secret.txt',
  '%uff0e%uff0e/secret.txt',
  '%ef%bc%8e%ef%bc%8e/secret.txt',
  '..;/secret.txt',
  '%00../secret.txt',
  'public/a.txt%00.png',
  'public/a.txt%00',
  '/../secret.txt',
  '//secret.txt',
  '%2fsecret.txt',
  '%2f..%2fsecret.txt',
  '....//secret.txt',
  '.../secret.txt',
  './../secret.txt',
  '%2e/%2e%2e/secret.txt',
  'link/secret.txt',
  'link%2fsecret.txt',
  'C:%5csecret.txt',
  'c:/secret.txt',
  '%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
  '.stowage.a.txt.json',
  'public/.stowage.a.txt.json',
];

describe.each(EXPRESS_VERSIONS)('serve() traversal corpus on %s', (_name, makeExpress) => {
  let fixture: StorageFixture;
  let served: Served;

  beforeAll(async () => {
    fixture = await makeStorage('local');
    // scratch/secret.txt sits next to the store root scratch/store.
    await writeFile(join(fixture.scratch, 'secret.txt'), SECRET);
    await mkdir(join(fixture.scratch, 'store'), { recursive: true });
    await writeFile(join(fixture.scratch, 'store-secret.txt'), SECRET);
    await fixture.storage.put('public/a.txt', 'public a');
    // A symlink inside the store pointing at its parent: must not be followed.
    await symlink(fixture.scratch, join((fixture.storage as LocalStorage).root, 'link'));
    served = await serveApp(makeExpress, fixture.storage, { disk: { dir: join(fixture.scratch, 'cache') } });
  });

  afterAll(async () => {
    await served?.close();
    await fixture?.close();
  });

  it('serves a normal key (control)', async () => {
    const res = await rawRequest(served.base, '/files/public/a.txt');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('public a');
  });

  it.each(CORPUS)('GET /files/%s → 400 or 404, never the secret', async (path) => {
    for (const method of ['GET', 'HEAD']) {
      const res = await rawRequest(served.base, `/files/${path}`, { method });
      expect([400, 404], `${method} ${path} → ${res.status}`).toContain(res.status);
      expect(res.body.toString()).not.toContain('TOP SECRET');
      expect(res.headers['content-length']).not.toBe(String(Buffer.byteLength(SECRET)));
    }
  });

  it('answers 400 for encodings that decode to ".." or invalid UTF-8', async () => {
    for (const path of [
      '%2e%2e/secret.txt',
      '..%2fsecret.txt',
      '..%5csecret.txt',
      '%c0%ae%c0%ae/secret.txt',
      '%00../secret.txt',
    ]) {
      const res = await rawRequest(served.base, `/files/${path}`);
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body.toString()).error.code).toBe('INVALID_KEY');
    }
  });

  it('never serves the secret from the cache either (second pass after the first filled it)', async () => {
    for (const path of CORPUS) {
      const res = await rawRequest(served.base, `/files/${path}`);
      expect(res.body.toString()).not.toContain('TOP SECRET');
    }
    const stats = served.handler.cache.stats();
    expect(stats.memory?.entries).toBeLessThanOrEqual(1); // only public/a.txt was ever cached
  });
});
