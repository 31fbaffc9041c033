import { lstatSync, type Stats } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type ignoreModule from 'ignore';
import type { Ignore } from 'ignore';
import { lazyRequire } from '../util/lazy-require.js';
import { comparePaths } from './format.js';
import { trackedFilesIfWorkTree } from './git.js';

/** The .gitignore matcher factory: only a walk outside git needs it. */
const loadIgnore = lazyRequire<typeof ignoreModule>('ignore');

export interface AppFile {
  /** Relative to the app directory, POSIX separators. */
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  /** A symbolic link (deployed as a link; never migrated: its size is not its target's). */
  symlink?: boolean;
}

export interface AppFileListing {
  /** "git": `git ls-files`; "walk": a directory walk honouring .gitignore. */
  source: 'git' | 'walk';
  files: AppFile[];
}

/** Never part of a deploy from source: git's own data and installed packages (built on the platform). */
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);

/**
 * The files a deploy from `dir` would carry: git-tracked files inside a git
 * work tree, else every file not ignored by .gitignore. Sorted by path.
 */
export async function listAppFiles(dir: string): Promise<AppFileListing> {
  const paths = await trackedFilesIfWorkTree(dir);
  if (paths) {
    // Synchronous on purpose: nothing else runs meanwhile, and a cached lstat
    // costs microseconds where a thread-pool round trip costs tens of them.
    const files: AppFile[] = [];
    for (const path of paths) {
      const file = toAppFile(path, lstatOrUndefined(join(dir, path)));
      if (file) files.push(file);
    }
    return { source: 'git', files: files.sort((a, b) => comparePaths(a.path, b.path)) };
  }
  const files: AppFile[] = [];
  await walk(dir, '', [], files);
  return { source: 'walk', files: files.sort((a, b) => comparePaths(a.path, b.path)) };
}

/** Stats a listed path; undefined for paths that vanished or are not files (submodules). */
export async function statFile(dir: string, path: string): Promise<AppFile | undefined> {
  return toAppFile(path, await lstat(join(dir, path)).catch(() => undefined));
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function toAppFile(path: string, info: Stats | undefined): AppFile | undefined {
  if (!info || (!info.isFile() && !info.isSymbolicLink())) return undefined;
  const file: AppFile = { path, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  if (info.isSymbolicLink()) file.symlink = true;
  return file;
}

interface IgnoreScope {
  /** Directory of the .gitignore, relative to the app root, "" or ending in "/". */
  base: string;
  rules: Ignore;
}

async function walk(root: string, rel: string, scopes: IgnoreScope[], out: AppFile[]): Promise<void> {
  const here = join(root, rel);
  const local = await readIgnoreFile(join(here, '.gitignore'));
  const active = local ? [...scopes, { base: rel, rules: local }] : scopes;
  const entries = await readdir(here, { withFileTypes: true });
  for (const entry of entries) {
    if (ALWAYS_SKIPPED.has(entry.name)) continue;
    const path = rel + entry.name;
    const isDir = entry.isDirectory();
    if (isIgnored(active, isDir ? `${path}/` : path)) continue;
    if (isDir) await walk(root, `${path}/`, active, out);
    else if (entry.isFile() || entry.isSymbolicLink()) {
      const file = await statFile(root, path);
      if (file) out.push(file);
    }
  }
}

function isIgnored(scopes: IgnoreScope[], path: string): boolean {
  return scopes.some((scope) => scope.rules.ignores(path.slice(scope.base.length)));
}

/** Parsed rules of a .gitignore-syntax file, or undefined when it does not exist. */
export async function readIgnoreFile(file: string): Promise<Ignore | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    return loadIgnore()().add(text);
  } catch {
    return undefined;
  }
}
