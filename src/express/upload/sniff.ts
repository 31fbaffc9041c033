import { fileTypeFromBuffer } from 'file-type';
import { StowageError } from '../../core/errors.js';

/** Bytes file-type needs to recognise every format it knows. */
export const SNIFF_BYTES = 4100;

export interface SniffedType {
  /** MIME type read from the magic bytes, e.g. "image/png". */
  mime: string;
  /** Extension without the dot, e.g. "png". */
  ext: string;
}

/** The type the content really has, from its first bytes; undefined when no signature matches. */
export async function sniffType(head: Uint8Array): Promise<SniffedType | undefined> {
  if (head.length === 0) return undefined;
  const found = await fileTypeFromBuffer(head.subarray(0, SNIFF_BYTES));
  return found ? { mime: found.mime, ext: found.ext } : undefined;
}

/**
 * Validates an allowedTypes option: exact MIME types ("image/png") or
 * prefixes ("image/" or "image/*"). Returns the normalised list.
 */
export function checkAllowedTypes(value: unknown, what = 'options.allowedTypes'): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${what} must be a non-empty array of MIME types or prefixes such as ["image/", "application/pdf"]`,
    );
  }
  return value.map((entry) => {
    if (typeof entry !== 'string' || !/^[\w.+-]+\/([\w.+-]+|\*)?$/.test(entry)) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        `${what} entry ${JSON.stringify(entry)} must be a MIME type ("image/png") or a prefix ("image/")`,
      );
    }
    return entry.toLowerCase().replace(/\*$/, '');
  });
}

export function isAllowedType(mime: string | undefined, allowed: string[] | undefined): boolean {
  if (allowed === undefined) return true;
  if (mime === undefined) return false;
  const lower = mime.toLowerCase();
  return allowed.some((entry) => (entry.endsWith('/') ? lower.startsWith(entry) : lower === entry));
}

/** Sniffs and enforces allowedTypes; throws 415 UNSUPPORTED_TYPE. */
export async function requireAllowedType(
  head: Uint8Array,
  allowed: string[] | undefined,
  label: string,
): Promise<SniffedType | undefined> {
  const sniffed = await sniffType(head);
  if (!isAllowedType(sniffed?.mime, allowed)) {
    const what = sniffed ? `is ${sniffed.mime}` : 'has no recognisable file signature';
    throw new StowageError(
      'UNSUPPORTED_TYPE',
      `${label} ${what}; allowed types: ${allowed!.map((t) => (t.endsWith('/') ? `${t}*` : t)).join(', ')}`,
    );
  }
  return sniffed;
}
