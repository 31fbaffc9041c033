/**
 * An app installed with the real npm client from the registry, as a user
 * installs it, with stowage from a tarball of the current sources (what
 * `npm publish` would ship). For examples whose dependencies the repo does
 * not carry (onnxruntime-node, transformers.js): npm's own cache makes a
 * second install cheap.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildLibrary } from './build-lib.js';

const run = promisify(execFile);

/** The environment without what an enclosing `npm test` exports (npm_config_*, npm_package_*…). */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !/^INIT_CWD$/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Builds the package from src/ and packs it; returns the tarball's path. */
export async function packStowage(into: string): Promise<string> {
  const pkgDir = await buildLibrary(into);
  // No scripts: prepack would build again, with a compiler the package dir lacks.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], {
    cwd: pkgDir,
    env: npmEnv(),
    maxBuffer: 16 << 20,
  });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (!packed) throw new Error('npm pack printed no tarball');
  return join(into, packed.filename);
}

/** Points the app's "stowage" dependency at a tarball (a copied app's file:../.. leads nowhere). */
export async function useStowageTarball(appDir: string, tarball: string): Promise<void> {
  const path = join(appDir, 'package.json');
  const pkg = JSON.parse(await readFile(path, 'utf8')) as { dependencies?: Record<string, string> };
  pkg.dependencies = { ...pkg.dependencies, stowage: `file:${tarball}` };
  await writeFile(path, `${JSON.stringify(pkg, null, 2)}\n`);
}

/** `npm <args>` in dir; returns what it printed. */
export async function npm(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await run('npm', [...args, '--no-audit', '--no-fund'], {
    cwd: dir,
    env: npmEnv(env),
    maxBuffer: 64 << 20,
  });
  return stdout + stderr;
}
