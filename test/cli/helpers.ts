import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import type { CliIO } from '../../src/cli/ui.js';
import type { Body, ObjectInfo, PutOptions, Storage } from '../../src/core/types.js';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

/** Deterministic bytes: `size` bytes derived from `seed` (incompressible enough, reproducible). */
export function bytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function writeFiles(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A temp directory (removed by the returned cleanup). */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `stowage-cli-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A git repo made with real git, the files committed. */
export async function makeRepo(files: Record<string, Uint8Array | string>): Promise<string> {
  const dir = await tempDir('repo');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'Stowage Test');
  git(dir, 'config', 'commit.gpgsign', 'false');
  await writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export interface Captured {
  io: CliIO;
  out: () => string;
  err: () => string;
}

/** In-process IO for runCli: not a TTY, CI unset unless given. */
export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}): Captured {
  let out = '';
  let err = '';
  return {
    io: {
      cwd,
      env,
      stdout: { write: (t: string) => (out += t), isTTY: false },
      stderr: { write: (t: string) => (err += t), isTTY: false },
    },
    out: () => out,
    err: () => err,
  };
}

export async function run(
  cwd: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: ExitCode; out: string; err: string }> {
  const c = captureIO(cwd, env);
  const code = await runCli(argv, { io: c.io });
  return { code, out: c.out(), err: c.err() };
}

/** Wraps a Storage, counting calls; `failAfterPuts` makes the put after N successful ones fail. */
export class CountingStorage implements Storage {
  readonly name: string;
  readonly capabilities: Storage['capabilities'];
  puts: string[] = [];
  heads = 0;
  lists = 0;
  failAfterPuts: number | undefined;

  constructor(private readonly inner: Storage) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  async put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo> {
    if (this.failAfterPuts !== undefined && this.puts.length >= this.failAfterPuts) {
      (body as { destroy?: () => void }).destroy?.();
      throw new Error('injected failure: connection lost');
    }
    const info = await this.inner.put(key, body, opts);
    this.puts.push(key);
    return info;
  }
  get: Storage['get'] = (key, opts) => this.inner.get(key, opts);
  head: Storage['head'] = (key) => {
    this.heads++;
    return this.inner.head(key);
  };
  exists: Storage['exists'] = (key) => this.inner.exists(key);
  delete: Storage['delete'] = (key) => this.inner.delete(key);
  list: Storage['list'] = (prefix, opts) => {
    this.lists++;
    return this.inner.list(prefix, opts);
  };
  copy: Storage['copy'] = (from, to) => this.inner.copy(from, to);
  url: Storage['url'] = (key, opts) => this.inner.url(key, opts);
}
