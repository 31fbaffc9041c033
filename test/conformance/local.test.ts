import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../../adapters/local/index.js';
import { runConformance } from '../../src/testing/conformance.js';

/** Temp files anywhere under the root are leftovers. */
export async function localLeftovers(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.name.startsWith('.stowage-tmp-')).map((e) => join(e.parentPath, e.name));
}

runConformance('local', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-local-'));
  return {
    storage: new LocalStorage({ root }),
    leftovers: () => localLeftovers(root),
    close: () => rm(root, { recursive: true, force: true }),
  };
});
