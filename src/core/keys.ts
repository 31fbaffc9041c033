import { StowageError } from './errors.js';

/** S3's limit, and a sane one for every other backend: 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

// C0 controls, DEL and C1 controls: invisible, and some terminals and
// filesystems interpret them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The one key validator. Keys are relative POSIX paths of non-empty
 * segments; the returned key is NFC-normalised. Every adapter, the
 * middleware and the loader call this before touching a backend.
 */
export function validateKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string') {
    throw invalid(`${what} must be a string, got ${key === null ? 'null' : typeof key}`);
  }
  if (key.length === 0) throw invalid(`${what} must not be empty`);
  if (CONTROL_CHARS.test(key)) {
    throw invalid(`${what} contains a NUL or control character; use printable characters only`, key);
  }
  if (key.includes('\\')) throw invalid(`${what} contains a backslash; use "/" to separate segments`, key);
  const normalised = key.normalize('NFC');
  if (!isWellFormed(normalised)) throw invalid(`${what} contains a lone surrogate (malformed UTF-16)`, key);
  if (Buffer.byteLength(normalised, 'utf8') > MAX_KEY_BYTES) {
    throw invalid(`${what} is longer than ${MAX_KEY_BYTES} bytes of UTF-8; shorten it`, key);
  }
  if (normalised.startsWith('/')) throw invalid(`${what} must be relative: remove the leading "/"`, key);
  if (/^[a-zA-Z]:/.test(normalised))
    throw invalid(`${what} looks like a drive path; use a relative key`, key);
  for (const segment of normalised.split('/')) {
    if (segment === '') throw invalid(`${what} has an empty segment ("//" or a trailing "/")`, key);
    if (segment === '.' || segment === '..') {
      throw invalid(`${what} has a "${segment}" segment; keys cannot step out of their root`, key);
    }
  }
  return normalised;
}

/** Validates a list prefix: empty is allowed, a trailing "/" is allowed. */
export function validatePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string') throw invalid(`prefix must be a string, got ${typeof prefix}`);
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const key = validateKey(trimmed, 'prefix');
  return prefix.endsWith('/') ? `${key}/` : key;
}

/** Joins an adapter's root prefix and a validated key. */
export function joinKey(prefix: string, key: string): string {
  if (!prefix) return key;
  return prefix.endsWith('/') ? prefix + key : `${prefix}/${key}`;
}

/** Normalises a configured root prefix ("a/b/", "/a/b" → "a/b"). */
export function normalisePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? validateKey(trimmed, 'prefix') : '';
}

/** Percent-encodes each segment, keeping "/" — for building URLs from keys. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function isWellFormed(s: string): boolean {
  // String.prototype.isWellFormed is Node 20+, but typed only in newer libs.
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function invalid(message: string, key?: string): StowageError {
  // Never echo a key wholesale: it may be 10 KB or carry control characters.
  const shown =
    key === undefined ? '' : ` (key: ${JSON.stringify(key.slice(0, 80))}${key.length > 80 ? '…' : ''})`;
  return new StowageError('INVALID_KEY', message + shown, { key: undefined });
}
