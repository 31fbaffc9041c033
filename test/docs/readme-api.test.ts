import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPointExports } from './entry-point-exports.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

/** The README's "## API" section: for each `### \`entry\`` heading, the backticked names under it. */
function readmeApi(): Map<string, string[]> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## API$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('README.md has no "## API" section');
  const out = new Map<string, string[]>();
  for (const part of section.split(/^### /m).slice(1)) {
    const entry = /^`([^`]+)`/.exec(part)?.[1];
    if (!entry) continue;
    const body = part.slice(part.indexOf('\n'));
    const names = [...body.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1] as string);
    out.set(entry, [...new Set(names)].sort());
  }
  return out;
}

describe('README API section', () => {
  const exported = entryPointExports(ROOT);
  const documented = readmeApi();

  it('lists every entry point of package.json, and no other', () => {
    expect([...documented.keys()].sort()).toEqual([...exported.keys()].sort());
  });

  it.each([...exported.keys()])('%s: the README names exactly what it exports', (entry) => {
    expect(documented.get(entry)).toEqual(exported.get(entry));
  });
});
