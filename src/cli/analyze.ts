import { resolve } from 'node:path';
import { type CompressedEstimate, estimateCompressed } from './compress-estimate.js';
import { comparePaths } from './format.js';
import { type NodeModulesWeight, nodeModulesWeight } from './node-modules.js';
import type { ProgressReporter } from './progress.js';
import { type AppFile, listAppFiles } from './repo-files.js';
import { createSelector } from './select.js';
import { readSlugignore } from './slugignore.js';

export interface AnalyzeOptions {
  /** App directory (default: process.cwd()). */
  dir?: string;
  /** How many files and folders to list (default 10). */
  top?: number;
  progress?: ProgressReporter;
}

export interface SizedPath {
  path: string;
  bytes: number;
}

export interface FolderWeight extends SizedPath {
  files: number;
  /** "dir" for a folder, "file" for a file at the top level (the `du -sh *` view). */
  type: 'dir' | 'file';
}

export interface Group {
  files: number;
  bytes: number;
  /** Biggest first, at most `top`. */
  largest: SizedPath[];
}

export interface Suggestion {
  message: string;
  /** Slug bytes this saves (uncompressed). */
  bytes: number;
  command?: string;
}

export interface AnalyzeResult {
  dir: string;
  /** Where the file list came from: `git ls-files`, or a walk honouring .gitignore. */
  source: 'git' | 'walk';
  /** What deploys from source: listed files minus .slugignore. */
  slug: { files: number; bytes: number; compressed: CompressedEstimate };
  largestFiles: SizedPath[];
  largestFolders: FolderWeight[];
  /** Files .slugignore already keeps out. */
  slugignored: Group;
  /** Files `stowage migrate-assets` (default selection) would move out. */
  migratable: Group;
  /** Installed by the platform at build; undefined when node_modules is absent. */
  nodeModules: NodeModulesWeight | undefined;
  suggestions: Suggestion[];
}

/** Top-level folders that rarely belong in a running app. */
const DEV_ONLY_FOLDERS = [
  'test',
  'tests',
  '__tests__',
  'spec',
  'docs',
  'doc',
  'coverage',
  'examples',
  'bench',
  'benchmarks',
  '.github',
  '.vscode',
  '.idea',
];

/** What the slug would contain, what weighs most, and what to do about it. */
export async function analyze(options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const dir = resolve(options.dir ?? process.cwd());
  const top = options.top ?? 10;
  if (!Number.isSafeInteger(top) || top < 1) throw new RangeError('top must be a positive integer');
  const listing = await listAppFiles(dir);
  const slugignore = await readSlugignore(dir);
  const slugFiles: AppFile[] = [];
  const ignored: AppFile[] = [];
  for (const file of listing.files) (slugignore.ignores(file.path) ? ignored : slugFiles).push(file);

  const select = createSelector({ globs: [] });
  const migratable = slugFiles.filter(select);
  const compressed = await estimateCompressed(dir, slugFiles, options.progress);
  const folders = topLevelWeights(slugFiles);
  const nodeModules = await nodeModulesWeight(dir, top);

  return {
    dir,
    source: listing.source,
    slug: { files: slugFiles.length, bytes: sum(slugFiles), compressed },
    largestFiles: largest(slugFiles, top),
    largestFolders: folders.slice(0, top),
    slugignored: group(ignored, top),
    migratable: group(migratable, top),
    nodeModules,
    suggestions: suggest(migratable, folders),
  };
}

function sum(files: AppFile[]): number {
  return files.reduce((total, f) => total + f.size, 0);
}

function largest(files: AppFile[], top: number): SizedPath[] {
  return [...files]
    .sort((a, b) => b.size - a.size || comparePaths(a.path, b.path))
    .slice(0, top)
    .map((f) => ({ path: f.path, bytes: f.size }));
}

function group(files: AppFile[], top: number): Group {
  return { files: files.length, bytes: sum(files), largest: largest(files, top) };
}

/** `du -sh * | sort -hr`, of what deploys. */
function topLevelWeights(files: AppFile[]): FolderWeight[] {
  const byName = new Map<string, FolderWeight>();
  for (const file of files) {
    const slash = file.path.indexOf('/');
    const name = slash === -1 ? file.path : file.path.slice(0, slash);
    const entry = byName.get(name) ?? { path: name, bytes: 0, files: 0, type: slash === -1 ? 'file' : 'dir' };
    entry.bytes += file.size;
    entry.files++;
    byName.set(name, entry);
  }
  return [...byName.values()].sort((a, b) => b.bytes - a.bytes || comparePaths(a.path, b.path));
}

function suggest(migratable: AppFile[], folders: FolderWeight[]): Suggestion[] {
  const out: Suggestion[] = [];
  if (migratable.length > 0) {
    out.push({
      message: `move ${migratable.length} asset/large file(s) to object storage and restore them at boot`,
      bytes: sum(migratable),
      command: 'stowage migrate-assets --to <storage-url>',
    });
  }
  for (const folder of folders) {
    if (folder.type === 'dir' && DEV_ONLY_FOLDERS.includes(folder.path) && folder.bytes > 0) {
      out.push({
        message: `add "/${folder.path}/" to .slugignore (${folder.files} file(s) not needed at run time)`,
        bytes: folder.bytes,
      });
    }
  }
  return out.sort((a, b) => b.bytes - a.bytes);
}
