import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under dir (relative paths), recursively; [] when dir is missing. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await visit(p);
      else out.push(relative(dir, p));
    }
  };
  await visit(dir);
  return out.sort();
}

/**
 * A file planted outside a storage root. check() proves it was never
 * changed, replaced or deleted; `marker` lets callers prove it was never
 * read (it must not appear in any response).
 */
export interface Canary {
  path: string;
  marker: string;
  check(): Promise<string[]>;
}

export async function plantCanary(path: string): Promise<Canary> {
  const marker = `CANARY-${Math.random().toString(36).slice(2)}-DO-NOT-READ`;
  await writeFile(path, marker);
  const before = await stat(path);
  return {
    path,
    marker,
    async check() {
      const problems: string[] = [];
      const now = await stat(path).catch(() => undefined);
      if (!now) return [`canary ${path} was deleted`];
      if (now.ino !== before.ino) problems.push(`canary ${path} was replaced`);
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size)
        problems.push(`canary ${path} was changed`);
      if ((await readFile(path, 'utf8')) !== marker) problems.push(`canary ${path} content changed`);
      return problems;
    },
  };
}
