import type { IncomingMessage } from 'node:http';
import { StowageError } from '../../core/errors.js';
import { validateKey } from '../../core/keys.js';

/** What serve() reads of a request: Node's, plus Express's mount-relative `path` when present. */
export type ServeRequest = IncomingMessage & { path?: unknown };

/**
 * The storage key a request asks for: the path below the mount point,
 * percent-decoded exactly once, then through the one key validator. So
 * "%2e%2e", "%2f", "%5c", overlong UTF-8 and NUL all fail here; a double
 * encoding ("%252e") decodes to a literal "%2e" segment, which is a
 * harmless key, never a step out of the store. Returns undefined for the
 * mount root itself (no key).
 */
export function keyFromRequest(req: ServeRequest): string | undefined {
  const path = typeof req.path === 'string' ? req.path : pathOf(req.url);
  const relative = path.startsWith('/') ? path.slice(1) : path;
  if (relative === '') return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    throw new StowageError('INVALID_KEY', 'the request path is not valid percent-encoded UTF-8');
  }
  return validateKey(decoded, 'requested path');
}

/** `?download=1` (use the key's file name) or `?download=name`, as url({ download }) emits. */
export function downloadParam(req: IncomingMessage): string | true | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get('download');
  if (value === null || value === '' || value === '0' || value === 'false') return undefined;
  return value === '1' || value === 'true' ? true : value;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}
