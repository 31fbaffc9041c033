import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/cli/analyze.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { bytes, git, makeRepo, removeDir, run, tempDir, writeFiles } from './helpers.js';

const FILES = {
  'assets/video.mp4': bytes(400_000, 'video'),
  'assets/logo.png': bytes(3000, 'logo'),
  'docs/guide.md': 'guide '.repeat(5000),
  'test/app.test.js': 'test("x", () => {});\n'.repeat(200),
  'src/server.js': 'import express from "express";\n'.repeat(300),
  'package.json': '{"name":"app","dependencies":{"a":"1"}}\n',
  '.slugignore': '/docs/\n',
};

/** Sizes as git lists them: the ground truth analyze must match. */
function gitSizes(dir: string): Map<string, number> {
  const paths = git(dir, 'ls-files', '-z').split('\0').filter(Boolean);
  return new Map(paths.map((p) => [p, statSync(join(dir, p)).size]));
}

describe('stowage analyze', () => {
  let repo: string;

  beforeAll(async () => {
    repo = await makeRepo(FILES);
    // Untracked and installed files are not part of a git deploy.
    await writeFiles(repo, {
      'scratch.bin': bytes(50_000, 'scratch'),
      'node_modules/a/index.js': 'x'.repeat(1000),
      'node_modules/a/node_modules/c/index.js': 'y'.repeat(300),
      'node_modules/b/index.js': 'z'.repeat(7000),
      'node_modules/.package-lock.json': JSON.stringify({
        packages: {
          '': { name: 'app' },
          'node_modules/a': { version: '1.0.0' },
          'node_modules/a/node_modules/c': { version: '1.0.0' },
          'node_modules/b': { version: '1.0.0', dev: true },
        },
      }),
    });
  });
  afterAll(() => removeDir(repo));

  it('totals match git ls-files sizes minus .slugignore, with an exact per-file gzip -6 estimate', async () => {
    const sizes = gitSizes(repo);
    const inSlug = [...sizes].filter(([p]) => !p.startsWith('docs/'));
    const result = await analyze({ dir: repo });
    expect(result.source).toBe('git');
    expect(result.slug.files).toBe(inSlug.length);
    expect(result.slug.bytes).toBe(inSlug.reduce((sum, [, size]) => sum + size, 0));
    expect(result.slugignored).toEqual({
      files: 1,
      bytes: sizes.get('docs/guide.md'),
      largest: [{ path: 'docs/guide.md', bytes: sizes.get('docs/guide.md') }],
    });
    const gzipped = inSlug.reduce(
      (sum, [p]) => sum + gzipSync(readFileSync(join(repo, p)), { level: 6 }).length,
      0,
    );
    expect(result.slug.compressed).toEqual({
      bytes: gzipped,
      sampled: false,
      method: 'gzip level 6 of every file',
    });
  });

  it('lists the largest files and folders, what a migration moves, node_modules weight and suggestions', async () => {
    const result = await analyze({ dir: repo, top: 3 });
    expect(result.largestFiles.map((f) => f.path)).toEqual([
      'assets/video.mp4',
      'src/server.js',
      'test/app.test.js',
    ]);
    expect(result.largestFolders.map((f) => [f.path, f.type, f.files])).toEqual([
      ['assets', 'dir', 2],
      ['src', 'dir', 1],
      ['test', 'dir', 1],
    ]);
    expect(result.migratable.files).toBe(2);
    expect(result.migratable.bytes).toBe(403_000);
    // Production only: a (1000) and its nested c (300); b is a dev dependency.
    expect(result.nodeModules).toMatchObject({ bytes: 1300, productionOnly: true, packages: 2 });
    expect(result.suggestions[0]).toEqual({
      message: 'move 2 asset/large file(s) to object storage and restore them at boot',
      bytes: 403_000,
      command: 'stowage migrate-assets --to <storage-url>',
    });
    expect(result.suggestions.map((s) => s.message)).toContain(
      'add "/test/" to .slugignore (1 file(s) not needed at run time)',
    );
  });

  it('prints a report, and --json output that parses', async () => {
    const text = await run(repo, ['analyze']);
    expect(text.code).toBe(EXIT.OK);
    expect(text.out).toContain('(git-tracked files, minus .slugignore)');
    expect(text.out).toContain('compressed estimate:');
    expect(text.out).toContain('    400 kB  assets/video.mp4');
    expect(text.out).toContain('.slugignore keeps out 1 file(s)');
    const json = await run(repo, ['analyze', '--json', '.']);
    expect(json.code).toBe(EXIT.OK);
    const parsed = JSON.parse(json.out);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(await analyze({ dir: repo }))));
  });

  it('outside a git repo, walks the directory honouring .gitignore (nested too) and skipping node_modules', async () => {
    const dir = await tempDir('walk');
    try {
      await writeFiles(dir, {
        '.gitignore': '*.log\n/build/\n',
        'app.js': 'a'.repeat(100),
        'debug.log': 'l'.repeat(500),
        'build/out.js': 'b'.repeat(200),
        'lib/.gitignore': 'secret.txt\n',
        'lib/secret.txt': 's'.repeat(40),
        'lib/util.js': 'u'.repeat(60),
        'node_modules/x/index.js': 'x'.repeat(900),
      });
      const result = await analyze({ dir });
      expect(result.source).toBe('walk');
      expect(result.largestFiles.map((f) => f.path).sort()).toEqual([
        '.gitignore',
        'app.js',
        'lib/.gitignore',
        'lib/util.js',
      ]);
      expect(result.slug.bytes).toBe('*.log\n/build/\n'.length + 100 + 'secret.txt\n'.length + 60);
      expect(result.nodeModules).toMatchObject({ bytes: 900, productionOnly: false });
    } finally {
      await removeDir(dir);
    }
  });

  it('--help documents the exit codes; a bad --top is a usage error', async () => {
    const help = await run(repo, ['analyze', '--help']);
    expect(help.code).toBe(EXIT.OK);
    expect(help.out).toContain('Usage: stowage analyze');
    expect(help.out).toContain('Exit codes:');
    expect((await run(repo, ['analyze', '--top', 'none'])).code).toBe(EXIT.USAGE);
    const missing = await run(repo, ['analyze', 'no-such-dir']);
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.err).toContain('no-such-dir is not a directory');
  });
});
