#!/usr/bin/env node
// Lists the longest functions and methods (lines, signature to closing brace) under the given
// folders, for before/after notes on refactors: node bench/largest-functions.mjs src adapters [--top 15] [--name put]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args.splice(i, 2)[1];
};
const top = Number(flag('--top', 15));
const only = flag('--name', undefined);
const roots = args.length ? args : ['src', 'adapters'];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.[cm]?ts$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

const rows = [];
for (const root of roots)
  for (const path of files(root)) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node, owner) => {
      const named =
        ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node);
      if (named && node.body) {
        const name = ts.isConstructorDeclaration(node)
          ? 'constructor'
          : (node.name?.getText(source) ?? '(anonymous)');
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        rows.push({
          lines: end - start + 1,
          name: owner ? `${owner}.${name}` : name,
          where: `${relative('.', path)}:${start + 1}`,
        });
      }
      const nextOwner = ts.isClassDeclaration(node) && node.name ? node.name.text : owner;
      ts.forEachChild(node, (child) => visit(child, nextOwner));
    };
    visit(source, undefined);
  }
const picked = only ? rows.filter((r) => r.name.split('.').at(-1) === only) : rows;
picked.sort((a, b) => b.lines - a.lines);
for (const r of picked.slice(0, top)) console.log(`${String(r.lines).padStart(4)}  ${r.name}  ${r.where}`);
