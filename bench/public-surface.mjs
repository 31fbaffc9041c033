#!/usr/bin/env node
// Counts the names (values and types) each package.json entry point exports, read from the
// sources by the TypeScript checker, for before/after notes: node bench/public-surface.mjs
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === 'object' && target.types
    ? [[subpath, join(root, target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'))]]
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
let total = 0;
for (const [subpath, file] of entries) {
  const names = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)));
  total += names.length;
  console.log(`${subpath.padEnd(14)} ${String(names.length).padStart(3)}`);
}
console.log(`${'total'.padEnd(14)} ${String(total).padStart(3)}`);
