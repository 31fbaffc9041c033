/**
 * `npm pack` (and so `npm publish`) from a fresh clone, where no dist/ exists
 * yet: the prepack script builds, so the tarball carries the code; and
 * nothing builds on install (`npm ci` in a clone stays a plain install).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './build-lib.js';

const run = promisify(execFile);
let clone: string;

beforeAll(async () => {
  clone = await mkdtemp(join(tmpdir(), 'stowage-clone-'));
  // What a clone holds: the files git tracks (or would: new ones not ignored), never dist/.
  const copy =
    'git ls-files -z --cached --others --exclude-standard | grep -zv "^dist/" | tar --null -T - -cf - | tar -xf - -C "$1"';
  await run('bash', ['-o', 'pipefail', '-c', copy, 'bash', clone], { cwd: REPO_ROOT });
  await symlink(join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules'));
}, 60_000);

afterAll(async () => {
  if (clone) await rm(clone, { recursive: true, force: true });
});

describe('npm pack from a fresh clone', () => {
  it('builds first, so the tarball ships the code and the bins', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: clone, maxBuffer: 64 << 20 });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const paths = pack?.files.map((f) => f.path) ?? [];
    for (const path of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/bin.js',
      'dist/src/express/index.js',
    ]) {
      expect(paths).toContain(path);
    }
  }, 120_000);

  it('builds on pack and publish only: installing runs no build', async () => {
    const { scripts } = JSON.parse(await readFile(join(clone, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.prepack).toBe('npm run build');
    // The scripts npm ci and npm install run in the project itself.
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(scripts[hook]).toBeUndefined();
  });
});
