import { runGit } from './git.js';

/**
 * Whether git holds `paths` as they are on disk (tracked, unchanged, not
 * ignored): a deploy ships only what is committed. Undefined when git cannot
 * tell (no work tree, no git, a path outside the repository).
 */
export async function committedAsIs(cwd: string, paths: string[]): Promise<boolean | undefined> {
  const status = await runGit(cwd, [
    'status',
    '--porcelain',
    '--ignored',
    '--untracked-files=all',
    '--',
    ...paths,
  ]);
  if (status.code !== 0) return undefined;
  return status.stdout.length === 0;
}
