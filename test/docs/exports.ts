import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Every name (values and types) each package.json entry point exports, read from its source by the TS checker. */
export function entryPointExports(root: string): Map<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { types?: string }>;
  };
  const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
    typeof target === 'object' && target.types
      ? [[subpath === '.' ? 'stowage' : `stowage/${subpath.slice(2)}`, sourceOf(root, target.types)] as const]
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
  const out = new Map<string, string[]>();
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
function sourceOf(root: string, declaration: string): string {
  return join(root, declaration.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'));
}
