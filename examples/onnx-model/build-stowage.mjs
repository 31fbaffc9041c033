#!/usr/bin/env node
/**
 * Inside the stowage repo, "stowage": "file:../.." links the source tree:
 * build it (dist/) so the example runs the code beside it, installing the
 * repo's own dependencies first when they are missing. Installed from the
 * npm registry, stowage is built already and this does nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const linked = realpathSync('node_modules/stowage');
if (existsSync(join(linked, 'src', 'index.ts')) && existsSync(join(linked, 'tsconfig.build.json'))) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = (...args) => execFileSync(npm, args, { cwd: linked, stdio: 'inherit' });
  if (!existsSync(join(linked, 'node_modules', 'typescript'))) run('ci', '--no-audit', '--no-fund');
  run('run', 'build', '--silent');
}
