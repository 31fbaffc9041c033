import { readFile } from 'node:fs/promises';
import { StowageError } from '../core/errors.js';
import { normaliseSha256 } from '../core/integrity.js';
import { validateKey } from '../core/keys.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { redactUrl } from '../util/redact.js';
import { isCommitHash, parseHfUrl } from './hf/url.js';

/** Default manifest file name, at the app root. */
export const MANIFEST_FILE = 'stowage.lock.json';

interface EntryBase {
  /** Original path, relative to the app root, POSIX separators. */
  path: string;
  size: number;
  sha256: string;
  contentType?: string;
}

/** One file moved out of the slug (or mirrored): where it lived, its key in the manifest's storage, what it must hash to. */
export interface StoredEntry extends EntryBase {
  /** Key in the manifest's storage. */
  key: string;
  /** The pinned URL a mirrored file came from (hf://org/repo@<commit>/path); informational: the file is read from `key`. */
  origin?: string;
  source?: undefined;
}

/** One file read from a pinned source URL (hf://org/repo@<commit>/path), verified against size and sha256. */
export interface SourceEntry extends EntryBase {
  source: string;
  key?: undefined;
  origin?: undefined;
}

/** Exactly one of `key` (in the manifest's storage) or `source` (a pinned URL). */
export type ManifestEntry = StoredEntry | SourceEntry;

/** `stowage.lock.json`, written by migrate-assets and read by loadArtifacts(). */
export interface Manifest {
  version: 1;
  /** Storage URL without secrets (credentials come from the environment at boot); needed when an entry has a `key`. */
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
    (m.storage !== undefined && typeof m.storage !== 'string') ||
    !Array.isArray(m.files)
  ) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${source} must have "version": 1, a "storage" URL and a "files" array`,
    );
  }
  const files = m.files.map((entry, i) => checkEntry(entry, `${source} files[${i}]`));
  // Entries read from their own source need no storage; keys do.
  if (!m.storage && files.some((f) => f.key !== undefined)) {
    throw new StowageError('INVALID_ARGUMENT', `${source} has entries with a "key" but no "storage" URL`);
  }
  return { version: 1, storage: m.storage ?? '', files };
}

function checkEntry(entry: unknown, where: string): ManifestEntry {
  const e = entry as { [K in keyof StoredEntry]?: unknown } & { source?: unknown };
  if (!e || typeof e !== 'object') throw new StowageError('INVALID_ARGUMENT', `${where} must be an object`);
  const path = validateKey(e.path, `${where}.path`);
  if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) {
    throw new StowageError('INVALID_ARGUMENT', `${where}.size must be a non-negative integer`);
  }
  const base: EntryBase = { path, size: e.size, sha256: normaliseSha256(e.sha256, `${where}.sha256`) };
  if (typeof e.contentType === 'string') base.contentType = e.contentType;
  if ((e.key === undefined) === (e.source === undefined)) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${where} needs exactly one of "key" (in the manifest's storage) or "source" (a pinned URL)`,
    );
  }
  if (e.source !== undefined) {
    if (e.origin !== undefined) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        `${where}: "origin" goes with "key" (a mirrored file), not "source"`,
      );
    }
    return { ...base, source: checkSource(e.source, `${where}.source`) };
  }
  const out: StoredEntry = { ...base, key: validateKey(e.key, `${where}.key`) };
  if (e.origin !== undefined) out.origin = checkSource(e.origin, `${where}.origin`);
  return out;
}

/** A source URL in a lock: hf:// ones must be pinned to a commit, so a moved branch cannot change a boot. */
function checkSource(value: unknown, where: string): string {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(value.trim())) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${where} must be a source URL such as hf://org/repo@<commit>/path`,
    );
  }
  const text = value.trim();
  if (/^hf:/i.test(text) && !isCommitHash(parseHfUrl(text).revision)) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${where} ${JSON.stringify(text)} is not pinned: name the 40-hex commit, hf://org/repo@<commit>/path (resolveHfFiles and "stowage mirror" write pinned URLs)`,
    );
  }
  return text;
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
  const storage = manifest.storage ? { storage: redactUrl(manifest.storage) } : {};
  return `${JSON.stringify({ version: 1, ...storage, files }, null, 2)}\n`;
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
