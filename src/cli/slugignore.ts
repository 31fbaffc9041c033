import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type ignoreModule from 'ignore';
import type { Ignore } from 'ignore';
import { writeFileAtomic } from '../util/atomic-file.js';
import { lazyRequire } from '../util/lazy-require.js';

export const SLUGIGNORE_FILE = '.slugignore';

/** Only .slugignore files with wildcard or negated lines need the full matcher. */
const loadIgnore = lazyRequire<typeof ignoreModule>('ignore');

export const SLUGIGNORE_HEADER =
  '# Moved to object storage by `stowage migrate-assets` (see stowage.lock.json);\n' +
  '# restored at boot by loadArtifacts() or `stowage pull`.';

export interface Slugignore {
  /** The file's text ("" when absent). */
  text: string;
  ignores(path: string): boolean;
}

export async function readSlugignore(dir: string): Promise<Slugignore> {
  let text = '';
  try {
    text = await readFile(join(dir, SLUGIGNORE_FILE), 'utf8');
  } catch {
    // No .slugignore: nothing excluded.
  }
  return { text, ignores: compileSlugignore(text) };
}

/** An anchored path without wildcards or escapes: "/models/x.onnx", "/docs/". */
const LITERAL = /^\/([^*?[\]\\]+?)(\/)?$/;

/**
 * A matcher with .gitignore semantics (the path or a parent directory
 * matches). Anchored literal lines, the ones migrate-assets writes, are
 * looked up in sets: a file of thousands of them costs a hash lookup per
 * path instead of a regex per line. Negations ("!") keep full semantics.
 */
export function compileSlugignore(text: string): (path: string) => boolean {
  const lines = text.split(/\r?\n/).map((l) => (l.endsWith('\\ ') ? l : l.replace(/\s+$/, '')));
  if (lines.some((l) => l.startsWith('!'))) {
    const rules = loadIgnore()().add(text);
    return (path) => isIgnoredPath(rules, path);
  }
  const exact = new Set<string>();
  const dirs = new Set<string>();
  const patterns: string[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const literal = LITERAL.exec(line);
    if (literal) (literal[2] ? dirs : exact).add(literal[1]!);
    else patterns.push(line);
  }
  const rest = patterns.length > 0 ? loadIgnore()().add(patterns.join('\n')) : undefined;
  return (path) => {
    if (exact.has(path)) return true;
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
      const parent = path.slice(0, i);
      if (exact.has(parent) || dirs.has(parent)) return true;
    }
    return rest !== undefined && isIgnoredPath(rest, path);
  };
}

/** A path is ignored when it, or one of its parent directories, matches. */
function isIgnoredPath(rules: Ignore, path: string): boolean {
  if (rules.ignores(path)) return true;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (rules.ignores(`${path.slice(0, i)}/`)) return true;
  }
  return false;
}

/**
 * A .gitignore-syntax line matching exactly this path from the root:
 * anchored with "/", wildcard and special characters escaped.
 */
export function slugignoreLine(path: string): string {
  let line = `/${path.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}`;
  if (line.endsWith(' ')) line = `${line.slice(0, -1)}\\ `;
  return line;
}

/**
 * Appends the paths not already ignored, under a comment header written
 * once; returns the paths added. Never rewrites existing lines.
 */
export async function addToSlugignore(dir: string, paths: string[]): Promise<string[]> {
  const current = await readSlugignore(dir);
  const added: string[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    if (seen.has(path) || current.ignores(path)) continue;
    seen.add(path);
    added.push(path);
  }
  if (added.length === 0) return added;
  let text = current.text;
  if (text !== '' && !text.endsWith('\n')) text += '\n';
  if (!text.includes(SLUGIGNORE_HEADER)) text += `${text === '' ? '' : '\n'}${SLUGIGNORE_HEADER}\n`;
  text += `${added.map(slugignoreLine).join('\n')}\n`;
  // Atomic: a second Ctrl-C mid-write must not leave the user's own lines truncated.
  await writeFileAtomic(join(dir, SLUGIGNORE_FILE), text);
  return added;
}
