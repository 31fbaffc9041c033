#!/usr/bin/env node
// Counts the names (values and types) each package.json entry point exports, for before/after
// notes: node bench/public-surface.mjs [root]. Same reading as the README API test.
import { join } from 'node:path';
import { entryPointExports } from '../test/docs/entry-point-exports.mjs';

const root = process.argv[2] ?? join(import.meta.dirname, '..');
let total = 0;
for (const [entry, names] of entryPointExports(root)) {
  total += names.length;
  console.log(`${entry.padEnd(18)} ${String(names.length).padStart(3)}`);
}
console.log(`${'total'.padEnd(18)} ${String(total).padStart(3)}`);
