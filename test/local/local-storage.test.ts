import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { collect, expectCode, sha256 } from '../helpers/streams.js';

let dir: string;
let root: string;
let outside: string;
let s: LocalStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-localtest-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'TOP SECRET');
  s = new LocalStorage({ root, baseUrl: '/files/' });
  await s.put('seed.txt', 'seed');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalStorage on disk', () => {
  it('stores plain files under the root, with a sidecar beside them', async () => {
    await s.put('a/b.txt', 'hello', { contentType: 'text/x-custom', metadata: { who: 'me' } });
    expect(await readFile(join(root, 'a/b.txt'), 'utf8')).toBe('hello');
    const sidecar = JSON.parse(await readFile(join(root, 'a/.stowage.b.txt.json'), 'utf8'));
    expect(sidecar).toMatchObject({
      v: 1,
      size: 5,
      sha256: sha256('hello'),
      contentType: 'text/x-custom',
      metadata: { who: 'me' },
    });
  });

  it('serves files placed by hand, guessing the type from the extension', async () => {
    await writeFile(join(root, 'manual.json'), '{}');
    const info = await s.head('manual.json');
    expect(info).toMatchObject({
      key: 'manual.json',
      size: 2,
      contentType: 'application/json',
      metadata: {},
    });
    expect(info.sha256).toBeUndefined();
  });

  it('ignores a sidecar that belongs to another version of the file', async () => {
    await s.put('v.txt', 'one', { metadata: { version: '1' } });
    await writeFile(join(root, 'v.tmp'), 'two!');
    await rm(join(root, 'v.txt'));
    await writeFile(join(root, 'v.txt'), 'two!'); // Replaced by hand: new inode, stale sidecar.
    const info = await s.head('v.txt');
    expect(info.metadata).toEqual({});
    expect(info.sha256).toBeUndefined();
    expect(info.size).toBe(4);
  });

  it('never reads through a symlinked directory that leaves the root', async () => {
    await symlink(outside, join(root, 'escape'));
    await expectCode(s.get('escape/secret.txt'), 'NOT_FOUND');
    await expectCode(s.head('escape/secret.txt'), 'NOT_FOUND');
    expect(await s.exists('escape/secret.txt')).toBe(false);
    const listed: string[] = [];
    for await (const info of s.list()) listed.push(info.key);
    expect(listed).toEqual(['seed.txt']);
  });

  it('never writes or deletes through a symlinked directory', async () => {
    await symlink(outside, join(root, 'escape'));
    await expectCode(s.put('escape/new.txt', 'x'), 'ACCESS_DENIED');
    await expectCode(s.put('escape/deeper/new.txt', 'x'), 'ACCESS_DENIED');
    await s.delete('escape/secret.txt');
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('TOP SECRET');
  });

  it('never follows a symlinked file', async () => {
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    await expectCode(s.get('link.txt'), 'NOT_FOUND');
    await expectCode(s.head('link.txt'), 'NOT_FOUND');
    // Overwriting replaces the link itself; the target is untouched.
    await s.put('link.txt', 'replaced');
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('TOP SECRET');
    expect((await collect((await s.get('link.txt')).body)).toString()).toBe('replaced');
  });

  it('reserves .stowage names and explains the file/directory clash', async () => {
    await expectCode(s.put('.stowage.x.json', 'x'), 'INVALID_KEY');
    await expectCode(s.put('a/.stowage-tmp-1', 'x'), 'INVALID_KEY');
    await s.put('file', 'x');
    const err = await expectCode(s.put('file/child', 'y'), 'INVALID_KEY');
    expect(err.message).toMatch(/"a" and "a\/b"/);
    // The other way round: an object where a folder of keys is, refused before anything is written.
    await s.put('folder/child', 'y');
    const reverse = await expectCode(s.put('folder', 'z', { metadata: { a: '1' } }), 'INVALID_KEY');
    expect(reverse.message).toContain('both an object and a folder');
    expect(await readdir(root)).not.toContain('.stowage.folder.json');
    expect((await readdir(root)).filter((name) => name.includes('.stowage-tmp'))).toEqual([]);
    expect((await collect((await s.get('folder/child')).body)).toString()).toBe('y');
  });

  it('builds URLs from baseUrl and refuses to sign', async () => {
    expect(await s.url('dir/a b.txt')).toBe('/files/dir/a%20b.txt');
    expect(await s.url('a.txt', { download: 'report.txt' })).toBe('/files/a.txt?download=report.txt');
    await expectCode(s.url('a.txt', { expiresIn: 60 }), 'NOT_SUPPORTED');
    const bare = new LocalStorage({ root });
    const err = await expectCode(bare.url('a.txt'), 'NOT_SUPPORTED');
    expect(err.message).toContain('baseUrl');
  });

  it('removes empty directories after delete, keeps the root', async () => {
    await s.put('deep/er/still/x.txt', 'x');
    await s.delete('deep/er/still/x.txt');
    expect(await readdir(root)).toEqual(['.stowage.seed.txt.json', 'seed.txt']);
  });

  it('sweeps temp files left by a crashed writer', async () => {
    await mkdir(join(root, 'd'), { recursive: true });
    const stale = join(root, 'd', '.stowage-tmp-crashed');
    await writeFile(stale, 'partial');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(stale, old, old);
    await writeFile(join(root, 'd', '.stowage-tmp-fresh'), 'in progress');
    expect(await s.sweepTemp()).toBe(1);
    expect((await readdir(join(root, 'd'))).sort()).toEqual(['.stowage-tmp-fresh']);
  });

  it('validates constructor options', async () => {
    await expectCode(async () => new LocalStorage({} as never), 'INVALID_ARGUMENT');
    await expectCode(async () => new LocalStorage({ root: '' }), 'INVALID_ARGUMENT');
  });
});
