import { spawn } from 'node:child_process';

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs git in `cwd` and collects its output (never throws on a non-zero exit). */
export function runGit(cwd: string, args: string[]): Promise<GitResult> {
  return new Promise((resolvePromise) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) =>
      resolvePromise({ code: -1, stdout: Buffer.alloc(0), stderr: error.message }),
    );
    child.on('close', (code) =>
      resolvePromise({
        code: code ?? -1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** True when `dir` is inside a git work tree (and git is installed). */
export async function isGitWorkTree(dir: string): Promise<boolean> {
  const result = await runGit(dir, ['rev-parse', '--is-inside-work-tree']);
  return result.code === 0 && result.stdout.toString('utf8').trim() === 'true';
}

/**
 * Tracked paths under `dir` (relative to it, POSIX separators) when it is
 * inside a git work tree, else undefined (no repository, or no git). Inside
 * a repository that is one process, not a `rev-parse` then an `ls-files`:
 * start-up time matters on a re-run.
 */
export async function trackedFilesIfWorkTree(dir: string): Promise<string[] | undefined> {
  const result = await runGit(dir, ['ls-files', '-z']);
  if (result.code === 0) return splitNul(result.stdout);
  // Asked, not parsed from the (localised) error message.
  if (!(await isGitWorkTree(dir))) return undefined;
  throw new Error(`git ls-files failed: ${result.stderr.trim()}`);
}

/** Removes paths from the index, keeping the files on disk (`git rm --cached`). */
export async function gitUntrack(dir: string, paths: string[]): Promise<void> {
  // Batches keep the command line under every OS's argument limit.
  for (let i = 0; i < paths.length; i += 200) {
    const batch = paths.slice(i, i + 200);
    const result = await runGit(dir, ['rm', '--cached', '--quiet', '--ignore-unmatch', '--', ...batch]);
    if (result.code !== 0) throw new Error(`git rm --cached failed: ${result.stderr.trim()}`);
  }
}

function splitNul(buffer: Buffer): string[] {
  return buffer
    .toString('utf8')
    .split('\0')
    .filter((p) => p !== '');
}
