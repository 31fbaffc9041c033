import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { serve } from '../../src/express/serve/index.js';
import { EXPRESS_VERSIONS } from '../express/upload/harness.js';
import { collect, expectCode } from '../helpers/streams.js';

/*
 * The local adapter follows no symbolic link, wherever it points: a key is a path of real
 * directories ending in a regular file under the root. A link inside the root would otherwise
 * make one object reachable under two keys, hide it from listings (which never descend into
 * links, or a link to "." would loop), and turn a link placed by anything else that writes
 * there (an unpacked archive, another process) into a way around the root.
 */

let dir: string;
let root: string;
let outside: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-symlinks-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'TOP SECRET');
  storage = new LocalStorage({ root, baseUrl: '/files' });
  await storage.put('real/a.txt', 'real a');
  await storage.put('b.txt', 'real b');
  await symlink(join(root, 'real'), join(root, 'alias')); // a directory link that stays inside the root
  await symlink(outside, join(root, 'escape')); // a directory link that leaves it
  await symlink(join(root, 'b.txt'), join(root, 'link-b.txt')); // a file link to another key
  await symlink(join(outside, 'secret.txt'), join(root, 'link-secret.txt')); // a file link out
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const THROUGH_LINKS = ['alias/a.txt', 'escape/secret.txt', 'link-b.txt', 'link-secret.txt'];

async function listed(s: LocalStorage, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of s.list(prefix)) keys.push(info.key);
  return keys;
}

describe('LocalStorage and symbolic links', () => {
  it.each(THROUGH_LINKS)('does not read %s: get, head and exists see no object', async (key) => {
    await expectCode(storage.get(key), 'NOT_FOUND');
    await expectCode(storage.head(key), 'NOT_FOUND');
    expect(await storage.exists(key)).toBe(false);
    await expectCode(storage.copy(key, 'copied.txt'), 'NOT_FOUND');
  });

  it('lists only the real files, under any prefix', async () => {
    expect(await listed(storage)).toEqual(['b.txt', 'real/a.txt']);
    expect(await listed(storage, 'alias/')).toEqual([]);
    expect(await listed(storage, 'link')).toEqual([]);
  });

  it('refuses to write through a directory link, inside the root or not', async () => {
    await expectCode(storage.put('alias/new.txt', 'x'), 'ACCESS_DENIED');
    await expectCode(storage.put('escape/new.txt', 'x'), 'ACCESS_DENIED');
    expect(await listed(storage, 'real/')).toEqual(['real/a.txt']);
  });

  it('deletes nothing through a link, and leaves the links themselves alone', async () => {
    for (const key of THROUGH_LINKS) await storage.delete(key);
    expect(await readFile(join(root, 'real', 'a.txt'), 'utf8')).toBe('real a');
    expect(await readFile(join(root, 'b.txt'), 'utf8')).toBe('real b');
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('TOP SECRET');
    for (const name of ['alias', 'escape', 'link-b.txt', 'link-secret.txt']) {
      expect((await lstat(join(root, name))).isSymbolicLink()).toBe(true);
    }
  });

  it('takes a root that is itself a link (e.g. to another disk)', async () => {
    await symlink(root, join(dir, 'root-link'));
    const viaLink = new LocalStorage({ root: join(dir, 'root-link') });
    expect(await listed(viaLink)).toEqual(['b.txt', 'real/a.txt']);
    await viaLink.put('real/c.txt', 'c');
    expect(await readFile(join(root, 'real', 'c.txt'), 'utf8')).toBe('c');
  });

  it('reads the real files as usual', async () => {
    expect((await collect((await storage.get('real/a.txt')).body)).toString()).toBe('real a');
    expect((await storage.head('b.txt')).size).toBe(6);
  });
});

describe.each(EXPRESS_VERSIONS)('serve() on LocalStorage with symbolic links (%s)', (_name, makeExpress) => {
  it('answers 404 for every key through a link and serves the real files', async () => {
    const app = makeExpress();
    const handler = serve(storage, { memory: false, disk: false });
    app.use('/files', handler);
    app.use(errorHandler({ log: false }));
    try {
      for (const key of THROUGH_LINKS) {
        for (const method of ['get', 'head'] as const) {
          const res = await supertest(app)[method](`/files/${key}`);
          expect(res.status, `${method} ${key}`).toBe(404);
          expect(res.text ?? '').not.toContain('TOP SECRET');
        }
      }
      const real = await supertest(app).get('/files/real/a.txt');
      expect(real.status).toBe(200);
      expect(real.text).toBe('real a');
    } finally {
      await handler.close();
    }
  });
});
