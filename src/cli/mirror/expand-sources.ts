import { isAbsolute, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StowageError } from '../../core/errors.js';
import { resolveHfFiles } from '../../loader/hf/resolve-files.js';
import { SIGNING_PARAM } from '../../loader/http-remote.js';
import type { ResolvedLoaderOptions } from '../../loader/options.js';
import { withRetries } from '../../loader/retry.js';
import { resolveSource } from '../../loader/source.js';
import { manifestUrl } from '../storage-target.js';

/** One file a source names, pinned as far as the source allows. */
export interface PinnedFile {
  /** URL the bytes are read from, as given (credentials included): never recorded or printed. */
  fetch: string;
  /** The same URL as the lock records it: no user:password, no signing query parameters (hf://…@<commit>/path once pinned). */
  source: string;
  /** Its name: the path in the repo (hf://), else the source's file name. */
  path: string;
  size: number;
  /** Hex sha256 when the source states it; otherwise the mirror computes it. */
  sha256?: string;
}

/**
 * Every file the sources name. hf:// sources may be globs and expand to
 * several files; the others (s3://, cloudinary://, file:, http(s)) are one
 * object each, asked once (probe) for size and, where known, sha256.
 */
export async function expandSources(
  sources: string[],
  options: ResolvedLoaderOptions & { cwd: string },
): Promise<PinnedFile[]> {
  const out: PinnedFile[] = [];
  for (const raw of sources) {
    const text = absoluteFileUrl(raw.trim(), options.cwd);
    if (/^hf:\/\//i.test(text)) {
      // A file or a glob on the hub, pinned to the commit its revision names now.
      for (const f of await resolveHfFiles(text, options)) {
        out.push({ fetch: f.source, source: f.source, path: f.path, size: f.size, sha256: f.sha256 });
      }
      continue;
    }
    const remote = await resolveSource(text, options);
    const meta = await withRetries(() => remote.probe(options.signal), options.retries, options.signal);
    const file: PinnedFile = { fetch: text, source: publicUrl(text), path: fileName(text), size: meta.size };
    if (meta.sha256) file.sha256 = meta.sha256;
    out.push(file);
  }
  return out;
}

/** What a lock may record: credentials and URL signatures (they expire, and git keeps them) removed. */
function publicUrl(text: string): string {
  const bare = manifestUrl(text);
  if (!/^https?:/i.test(bare)) return bare;
  const url = new URL(bare);
  for (const name of [...url.searchParams.keys()])
    if (SIGNING_PARAM.test(name)) url.searchParams.delete(name);
  return url.toString();
}

/** file: sources relative to the command's directory, not the process's. */
function absoluteFileUrl(text: string, cwd: string): string {
  if (!/^file:/i.test(text)) return text;
  const [pathPart = '', query] = text.slice('file:'.length).split('?', 2);
  const file = pathPart.startsWith('//') ? fileURLToPath(`file:${pathPart}`) : decodeURIComponent(pathPart);
  if (!file || isAbsolute(file)) return text;
  return `file:${resolve(cwd, file)}${query === undefined ? '' : `?${query}`}`;
}

/** The last segment of the URL's path (the file name a restore uses). */
function fileName(text: string): string {
  const path = /^file:/i.test(text)
    ? text.slice('file:'.length).split('?', 1)[0]!
    : new URL(text).pathname.replace(/\/+$/, '');
  const name = decodeURIComponent(posix.basename(path));
  if (!name) throw new StowageError('INVALID_ARGUMENT', `source ${manifestUrl(text)} names no file`);
  return name;
}
