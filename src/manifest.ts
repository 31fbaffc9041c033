import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import { StowageError } from './errors.js';
import { normaliseSha256 } from './integrity.js';
import { validateKey } from './keys.js';
import { redactUrl } from './redact.js';

/** Default manifest file name, at the app root. */
export const MANIFEST_FILE = 'stowage.lock.json';

/** One file moved out of the slug: where it lived, where it is stored, what it must hash to. */
export interface ManifestEntry {
  /** Original path, relative to the app root, POSIX separators. */
  path: string;
  /** Key in the manifest's storage. */
  key: string;
  size: number;
  sha256: string;
  contentType?: string;
}

/** `stowage.lock.json`, written by migrate-assets and read by loadArtifacts(). */
export interface Manifest {
  version: 1;
  /** Storage URL without secrets (credentials come from the environment at boot). */
  storage: string;
  files: ManifestEntry[];
}

export function parseManifest(text: string, source = MANIFEST_FILE): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${source} is not valid JSON; regenerate it with "stowage migrate-assets"`,
      { cause },
    );
  }
  const m = raw as Partial<Manifest>;
  if (
    !m ||
    typeof m !== 'object' ||
    m.version !== 1 ||
    typeof m.storage !== 'string' ||
    !Array.isArray(m.files)
  ) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${source} must have "version": 1, a "storage" URL and a "files" array`,
    );
  }
  const files = m.files.map((entry, i) => checkEntry(entry, `${source} files[${i}]`));
  return { version: 1, storage: m.storage, files };
}

function checkEntry(entry: unknown, where: string): ManifestEntry {
  const e = entry as Partial<ManifestEntry>;
  if (!e || typeof e !== 'object') throw new StowageError('INVALID_ARGUMENT', `${where} must be an object`);
  const path = validateKey(e.path, `${where}.path`);
  const key = validateKey(e.key, `${where}.key`);
  if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) {
    throw new StowageError('INVALID_ARGUMENT', `${where}.size must be a non-negative integer`);
  }
  const out: ManifestEntry = {
    path,
    key,
    size: e.size,
    sha256: normaliseSha256(e.sha256, `${where}.sha256`),
  };
  if (typeof e.contentType === 'string') out.contentType = e.contentType;
  return out;
}

export async function readManifest(file = MANIFEST_FILE): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new StowageError(
      'NOT_FOUND',
      `manifest ${file} not found; run "stowage migrate-assets" to create it`,
      { cause },
    );
  }
  return parseManifest(text, file);
}

/** Stable serialisation: entries sorted by path, two-space JSON, trailing newline (clean diffs). */
export function serializeManifest(manifest: Manifest): string {
  const files = [...manifest.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `${JSON.stringify({ version: 1, storage: redactUrl(manifest.storage), files }, null, 2)}\n`;
}

/** Writes atomically (temp + rename) so an interrupted run never leaves half a manifest. */
export async function writeManifest(manifest: Manifest, file = MANIFEST_FILE): Promise<void> {
  await writeFileAtomic(file, serializeManifest(manifest));
}

/** Entries of `update` replace those of `base` with the same path. */
export function mergeManifests(base: Manifest, update: Manifest): Manifest {
  const byPath = new Map(base.files.map((e) => [e.path, e]));
  for (const entry of update.files) byPath.set(entry.path, entry);
  return { version: 1, storage: update.storage, files: [...byPath.values()] };
}
