import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { bytes, git, makeRepo, removeDir, run, tempDir, writeFiles } from './helpers.js';

const FILES = {
  'models/model.onnx': bytes(1_200_000, 'model'),
  'public/hero.png': bytes(300_000, 'hero'),
  'index.js': 'run();\n',
};

describe('migrate-assets says where the slug stands and what is left to do', () => {
  let store: string;
  let dirs: string[] = [];

  beforeEach(async () => {
    store = await tempDir('store');
    dirs = [store];
  });
  afterEach(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  it('in git: the first run asks for a commit, a no-change re-run says what is kept out, then that nothing is left', async () => {
    const repo = await makeRepo(FILES);
    dirs.push(repo);
    const args = ['migrate-assets', '--to', `file:${store}`];
    const first = await run(repo, args);
    expect(first.code, first.err).toBe(EXIT.OK);
    expect(first.out).toContain('Slug shrinks by 1.5 MB (1500000 bytes).');
    expect(first.out).toContain(
      'Next: commit stowage.lock.json and .slugignore (git add stowage.lock.json .slugignore && git commit), then deploy.',
    );

    const again = await run(repo, args);
    expect(again.code, again.err).toBe(EXIT.OK);
    expect(again.out).not.toContain('Slug shrinks by 0 B');
    expect(again.out.split('\n').slice(1)).toEqual([
      'Nothing to upload: 2 file(s), 1.5 MB, already in storage; .slugignore keeps them out of the slug.',
      'Manifest: stowage.lock.json (2 file(s)).',
      'Next: commit stowage.lock.json and .slugignore (git add stowage.lock.json .slugignore && git commit), then deploy.',
      '',
    ]);

    git(repo, 'add', 'stowage.lock.json', '.slugignore');
    git(repo, 'commit', '-q', '-m', 'move assets');
    const committed = await run(repo, args);
    expect(committed.out).toContain('stowage.lock.json and .slugignore are committed: nothing left to do.');
    expect(committed.out).not.toContain('Next:');
  });

  it('moved files already out of the slug: "Slug unchanged", never "shrinks by 0 B" (new storage, dry run)', async () => {
    const repo = await makeRepo(FILES);
    const other = await tempDir('other-store');
    dirs.push(repo, other);
    expect((await run(repo, ['migrate-assets', '--to', `file:${store}`])).code).toBe(EXIT.OK);
    const plan = await run(repo, ['migrate-assets', '--to', `file:${other}`, '--dry-run']);
    const moved = await run(repo, ['migrate-assets', '--to', `file:${other}`]);
    expect(moved.out).toContain('Uploaded 2 file(s), 1.5 MB; 0 already stored;');
    for (const r of [plan, moved]) {
      expect(r.code, r.err).toBe(EXIT.OK);
      expect(r.out).not.toContain('Slug shrinks');
      expect(r.out).toContain('Slug unchanged: these 2 file(s), 1.5 MB, are already out of it.');
    }
  });

  it('an ignored manifest is not committed either (a deploy would not ship it)', async () => {
    const repo = await makeRepo({ ...FILES, '.gitignore': 'stowage.lock.json\n' });
    dirs.push(repo);
    const args = ['migrate-assets', '--to', `file:${store}`];
    expect((await run(repo, args)).code).toBe(EXIT.OK);
    git(repo, 'add', '.slugignore');
    git(repo, 'commit', '-q', '-m', 'slugignore only');
    expect((await run(repo, args)).out).toContain('Next: commit stowage.lock.json and .slugignore (git add');
  });

  it('outside git: the next step without git commands', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cli-plain-'));
    dirs.push(dir);
    await writeFiles(dir, FILES);
    const args = ['migrate-assets', '--to', `file:${store}`];
    expect((await run(dir, args)).code).toBe(EXIT.OK);
    const again = await run(dir, args);
    expect(again.out).toContain('Nothing to upload: 2 file(s), 1.5 MB, already in storage;');
    expect(again.out).toContain('Next: commit stowage.lock.json and .slugignore if not yet, then deploy.');
  });
});
