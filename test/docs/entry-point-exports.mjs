// Every name (values and types) each package.json entry point exports, read from its source by
// the TypeScript checker. Plain JS so that both the README API test and bench/public-surface.mjs
// (run by node, no build) use this one reading.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** @param {string} root @returns {Map<string, string[]>} entry ("stowage", "stowage/s3", …) → sorted names */
export function entryPointExports(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
    typeof target === 'object' && target.types
      ? [[subpath === '.' ? 'stowage' : `stowage/${subpath.slice(2)}`, sourceOf(root, target.types)]]
      : [],
  );
  const program = ts.createProgram(
    entries.map(([, file]) => file),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  const out = new Map();
  for (const [name, file] of entries) {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`cannot read the exports of ${file}`);
    out.set(
      name,
      checker
        .getExportsOfModule(symbol)
        .map((s) => s.name)
        .sort(),
    );
  }
  return out;
}

/** ./dist/src/index.d.ts -> <root>/src/index.ts (the declaration's source). */
function sourceOf(root, declaration) {
  return join(root, declaration.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'));
}
