import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLibrary } from '../e2e/build-lib.js';
import { freePort } from '../e2e/dyno.js';
import { codeBlocks, REPO, readmeSection } from './readme-snippets.js';

/*
 * The Quick start's snippets, run as written by node in an app folder of their own, against the
 * package as it would be installed (built from the sources), with a clean environment.
 */

const run = promisify(execFile);
const [hello, served] = codeBlocks(readmeSection('Quick start'), ['js']);
let work: string;
let app: string;
const children: ChildProcess[] = [];

/** Only what a shell on a laptop with nothing configured has. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: app, ...extra };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-quick-start-'));
  const pkg = await buildLibrary(join(work, 'lib'));
  await symlink(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  app = join(work, 'app');
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await symlink(pkg, join(app, 'node_modules', 'stowage'));
  await symlink(join(REPO, 'node_modules', 'express'), join(app, 'node_modules', 'express'));
  await writeFile(join(app, 'hello.mjs'), hello!);
  await writeFile(join(app, 'app.mjs'), served!);
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('README: Quick start, run as written', () => {
  it('stores and reads back on local disk ./uploads with nothing configured', async () => {
    const { stdout } = await run(process.execPath, ['hello.mjs'], { cwd: app, env: cleanEnv() });
    expect(stdout).toContain("key: 'hello.txt'");
    expect(stdout).toContain('size: 11');
    expect(stdout).toContain("contentType: 'text/plain'");
    expect(await readFile(join(app, 'uploads', 'hello.txt'), 'utf8')).toBe('hello, dyno');
  });

  it('prints a link serve() answers, with the STOWAGE_URL its first line gives', async () => {
    const command = /^\/\/ (\w+)='([^']+)' node app\.mjs\n/.exec(served!);
    expect(command, 'the snippet starts with the command that runs it').not.toBeNull();
    const port = await freePort();
    const child = spawn(process.execPath, ['app.mjs'], {
      cwd: app,
      env: cleanEnv({ [command![1]!]: command![2]!, PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString().trim()).toBe('/files/hello.txt');
    const res = await fetch(`http://127.0.0.1:${port}${line.toString().trim()}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello, dyno');
  });

  it('without it, url() fails with NOT_SUPPORTED, naming the fix', async () => {
    const port = await freePort();
    const failed = await run(process.execPath, ['app.mjs'], {
      cwd: app,
      env: cleanEnv({ PORT: String(port) }),
    }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain("code: 'NOT_SUPPORTED'");
    expect(failed?.stderr).toContain('file:./uploads?baseUrl=/files');
  });
});
