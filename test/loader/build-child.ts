import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const REPO = join(import.meta.dirname, '..', '..');
const STATIC_IMPORT = /\bfrom\s+['"](\.{1,2}\/[^'"]+)\.js['"]/g;

/**
 * Child processes need JavaScript: transpile the child script and the files
 * it statically imports (no type check) into a folder under
 * node_modules/.cache, where package imports still resolve. Dynamic imports
 * (other adapters) are left out: the children never take those paths.
 */
export async function buildForChildren(
  entry = join(REPO, 'test', 'loader', 'child-load.ts'),
): Promise<{ script: string; dir: string }> {
  const out = join(REPO, 'node_modules', '.cache', 'stowage-loader-tests', String(process.pid));
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    const target = join(out, relative(REPO, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
    const deps = [...source.matchAll(STATIC_IMPORT)].map((m) => resolve(dirname(file), `${m[1]}.ts`));
    await Promise.all(deps.map(visit));
  };
  await visit(entry);
  return { script: join(out, relative(REPO, entry)).replace(/\.ts$/, '.js'), dir: out };
}
