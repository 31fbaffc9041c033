import { createRequire } from 'node:module';
import { StowageError } from '../core/errors.js';

/**
 * Packages that are optional peer dependencies of stowage, grouped as the
 * README installs them: what needs them, which of them it cannot load
 * without, and the whole group (named too when missing, so one install fixes it).
 * Each adapter declares its own (adapters/<x>/peers.ts).
 */
export interface PeerGroup {
  feature: string;
  required: readonly string[];
  all: readonly string[];
}

/**
 * The one way stowage loads code that needs an optional peer: `load()`
 * imports it; if that fails because a package of `group` is not installed,
 * the failure is one StowageError (NOT_SUPPORTED) naming the exact
 * `npm install` command, not Node's module-resolution error. Any other
 * failure (a broken install, a bug) is rethrown as it is.
 */
export async function importPeer<T>(group: PeerGroup, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw isMissing(err, group) ? missingPeers(group, err) : err;
  }
}

/** importPeer for CommonJS callers (require(esm) is synchronous): the same error when a peer is missing. */
export function requirePeer<T>(group: PeerGroup, load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw isMissing(err, group) ? missingPeers(group, err) : err;
  }
}

/** Does `err` say that one of the group's packages itself cannot be found? */
function isMissing(err: unknown, group: PeerGroup): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const text = String(message);
  return group.all.some((name) => text.includes(`'${name}'`) || text.includes(`"${name}"`));
}

function missingPeers(group: PeerGroup, cause: unknown): StowageError {
  const absent = group.all.filter((name) => !isInstalled(name));
  const install = absent.length > 0 ? absent : group.required;
  const names = install.length > 1 ? `${install.slice(0, -1).join(', ')} and ${install.at(-1)}` : install[0];
  return new StowageError(
    'NOT_SUPPORTED',
    `${group.feature} needs ${names}, which ${install.length > 1 ? 'are' : 'is'} not installed: npm install ${install.join(' ')}`,
    { cause },
  );
}

const requireHere = createRequire(import.meta.url);

/** Resolvable from stowage's own location, as its imports resolve; nothing is loaded. */
function isInstalled(name: string): boolean {
  try {
    requireHere.resolve(name);
    return true;
  } catch (err) {
    // Found but not requirable this way (ESM only, no such export): installed all the same.
    return (err as { code?: string }).code !== 'MODULE_NOT_FOUND';
  }
}
