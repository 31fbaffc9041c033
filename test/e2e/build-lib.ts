/**
 * Builds the stowage package into a temp dir without touching the repo's
 * dist/: every source file is transpiled on its own (the sources pass
 * `tsc --isolatedModules`, so this is what tsc emits, minus the type check,
 * which `npm run typecheck` does), then package.json, README and LICENSE are
 * added: the same tree `npm pack` would ship.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (/\.c?ts$/.test(entry.name) && !/\.(test|d)\.c?ts$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Writes the package to `<into>/stowage` and returns that directory. */
export async function buildLibrary(into: string): Promise<string> {
  const pkgDir = join(into, 'stowage');
  const files = [...(await sources(join(REPO_ROOT, 'src'))), ...(await sources(join(REPO_ROOT, 'adapters')))];
  await Promise.all(
    files.map(async (file) => {
      // A .cts file (a "require" entry) is CommonJS, as tsc emits it; the rest is ESM.
      const commonJs = file.endsWith('.cts');
      const out = join(pkgDir, 'dist', relative(REPO_ROOT, file))
        .replace(/\.ts$/, '.js')
        .replace(/\.cts$/, '.cjs');
      const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
        fileName: file,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: commonJs ? ts.ModuleKind.CommonJS : ts.ModuleKind.ES2022,
          esModuleInterop: true,
          isolatedModules: true,
        },
      });
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, outputText);
    }),
  );
  for (const name of ['package.json', 'README.md', 'LICENSE']) {
    await copyFile(join(REPO_ROOT, name), join(pkgDir, name));
  }
  return pkgDir;
}
