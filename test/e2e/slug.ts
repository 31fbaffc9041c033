/**
 * The platform's build, reproduced: a slug is the app's git-tracked files
 * minus what .slugignore names, plus a production install; its size is what
 * tar + gzip make of it.
 */
import { execFile, spawn } from 'node:child_process';
import { link, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import ignore from 'ignore';
import { installProduction } from './install.js';

const run = promisify(execFile);

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    'git',
    [
      '-c',
      'user.name=stowage-e2e',
      '-c',
      'user.email=e2e@example.invalid',
      '-c',
      'commit.gpgsign=false',
      ...args,
    ],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/** Files of HEAD's tree a slug carries: tracked, and not matched by .slugignore. */
export async function slugFiles(repo: string): Promise<string[]> {
  const tracked = (await git(repo, 'ls-files', '-z')).split('\0').filter(Boolean);
  const rules = await readFile(join(repo, '.slugignore'), 'utf8').catch(() => '');
  const filter = ignore().add(rules);
  return tracked.filter((path) => !filter.ignores(path));
}

/** Builds the slug of `repo` into `slugDir`: its files (hard links) plus a production install. */
export async function buildSlug(
  repo: string,
  slugDir: string,
  stowageDir: string,
  dependencies: string[],
): Promise<{ files: string[] }> {
  const files = await slugFiles(repo);
  for (const path of files) {
    await mkdir(dirname(join(slugDir, path)), { recursive: true });
    await link(join(repo, path), join(slugDir, path));
  }
  await installProduction(slugDir, stowageDir, dependencies);
  return { files };
}

/** Bytes of `tar -cz` of the directory: the compressed slug size the platform caps. */
export function compressedSize(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-cz', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    tar.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`tar exited with ${code}`))));
  });
}
