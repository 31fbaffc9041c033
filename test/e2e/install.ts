/**
 * A production install without the network: the app's dependencies and
 * their dependency closure (dependencies and installed optionalDependencies,
 * never devDependencies) copied from the repo's node_modules, plus stowage
 * itself from a built package directory. Hard links keep it fast; nothing
 * ever writes into these files.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './build-lib.js';

const run = promisify(execFile);

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function readPackage(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Where node would find `name` from a package at `from` (nested node_modules first, then up to the repo's). */
function locate(name: string, from: string): string | undefined {
  // A package outside the repo (the built stowage) resolves from the repo root.
  const start = from.startsWith(REPO_ROOT + sep) ? from : REPO_ROOT;
  for (let dir = start; dir === REPO_ROOT || dir.startsWith(REPO_ROOT + sep); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) break;
  }
  return undefined;
}

/** Installs `names` (and stowage from `stowageDir`) into `<appDir>/node_modules`. */
export async function installProduction(appDir: string, stowageDir: string, names: string[]): Promise<void> {
  const target = join(appDir, 'node_modules');
  await mkdir(target, { recursive: true });
  const topLevel = new Set<string>();
  const seen = new Set<string>();
  const visit = async (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = await readPackage(dir);
    const deps = { ...pkg.dependencies, ...pkg.optionalDependencies };
    for (const dep of Object.keys(deps)) {
      const found = locate(dep, dir);
      if (!found) {
        if (pkg.optionalDependencies?.[dep]) continue;
        throw new Error(`production install: ${dep} (needed by ${dir}) is not in the repo's node_modules`);
      }
      // Nested copies travel with their parent; hoisted ones are copied to the top level.
      if (found === join(REPO_ROOT, 'node_modules', dep)) topLevel.add(dep);
      await visit(found);
    }
  };
  for (const name of names) {
    const found = locate(name, REPO_ROOT);
    if (!found) throw new Error(`production install: ${name} is not in the repo's node_modules`);
    topLevel.add(name);
    await visit(found);
  }
  await visit(stowageDir);
  for (const name of topLevel) {
    const dest = join(target, name);
    await mkdir(dirname(dest), { recursive: true });
    await run('cp', ['-al', join(REPO_ROOT, 'node_modules', name), dest]);
  }
  await mkdir(join(target, 'stowage'), { recursive: true });
  await run('cp', ['-a', `${stowageDir}/.`, join(target, 'stowage')]);
}
