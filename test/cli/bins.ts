import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { transformWithOxc } from 'vite';
import { removeDir, tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Bins {
  /** The transpiled tree (src/, adapters/), with the repo's node_modules linked in. */
  dir: string;
  stowage: string;
  migrateAssets: string;
  remove(): Promise<void>;
}

/**
 * The real bins for child-process tests: every source file transpiled (tsx
 * is not installed; no type check, tsc covers that) with vite's oxc
 * transform (vitest's own dependency) into a temp dir that sees the repo's node_modules.
 */
export async function buildBins(): Promise<Bins> {
  const dir = await tempDir('build');
  for (const top of ['src', 'adapters']) {
    const entries = await readdir(join(ROOT, top), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
      const source = join(entry.parentPath, entry.name);
      const target = join(dir, relative(ROOT, source)).replace(/\.ts$/, '.js');
      let code: string;
      try {
        ({ code } = await transformWithOxc(await readFile(source, 'utf8'), source, { lang: 'ts' }));
      } catch {
        // A file mid-edit elsewhere in the tree; if the bins need it, their tests say so.
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, code);
    }
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
  return {
    dir,
    stowage: join(dir, 'src/cli/bin.js'),
    migrateAssets: join(dir, 'src/cli/migrate-assets-bin.js'),
    remove: () => removeDir(dir),
  };
}
