import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { StowageError } from '../../core/errors.js';
import { validateKey } from '../../core/keys.js';

/** What a key function knows about a file when it names it. */
export interface KeyContext {
  /** Form field the file came in (direct uploads: "file"). */
  field: string;
  /** The client's file name, cleaned for display. Never trust it as a path. */
  originalName: string;
  /** Type sniffed from the content, when recognised. */
  contentType: string | undefined;
  /** Extension matching the sniffed type, without the dot ("png"), when recognised. */
  extension: string | undefined;
  /** Text fields received so far (upload(): those sent before the file). */
  fields: Record<string, string | string[]>;
  req: IncomingMessage;
}

/** Returns the final key of a file. The result is validated with the key validator. */
export type KeyFunction = (context: KeyContext) => string | Promise<string>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]/g;

/** The client's file name, safe to show or store as metadata: no path, no control characters, bounded. */
export function cleanOriginalName(name: unknown): string {
  if (typeof name !== 'string') return '';
  const base = name.replace(UNPRINTABLE, '').split(/[\\/]/).pop() ?? '';
  return base.normalize('NFC').slice(0, 255);
}

/**
 * The file name of a multipart part, as the user's file is called. busboy (with
 * `defParamCharset: 'utf8'`) already decodes raw UTF-8 names, as browsers and curl send them, and
 * RFC 5987 `filename*=UTF-8''…`, and keeps what follows the last "/" or backslash. Browsers (HTML's
 * multipart/form-data rules) and curl escape `"` as %22 in a quoted name: that is undone here, so
 * `a"b.pdf` reads as sent. A literal "%22" in a name cannot be told apart and reads as `"` too.
 */
export function multipartFileName(name: string | undefined): string {
  return cleanOriginalName(name?.replace(/%22/g, '"'));
}

/** Default naming: a random key under the prefix, with the extension of the sniffed type. */
export function randomKey(prefix: string, extension: string | undefined): string {
  const name = extension ? `${randomUUID()}.${extension}` : randomUUID();
  return prefix ? `${prefix}/${name}` : name;
}

/** Runs the configured key function (or the default) and validates what it returns. */
export async function finalKeyFor(
  keyFn: KeyFunction | undefined,
  prefix: string,
  context: KeyContext,
): Promise<string> {
  if (!keyFn) return randomKey(prefix, context.extension);
  const key = await keyFn(context);
  if (typeof key !== 'string') {
    throw new StowageError('INTERNAL', 'the upload key function must return a string key');
  }
  return validateKey(key, 'key returned by the upload key function');
}

/** Normalises the prefix option ("uploads/" → "uploads"). */
export function checkPrefix(value: unknown, what: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new StowageError('INVALID_ARGUMENT', `${what} must be a string`);
  const trimmed = value.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : validateKey(trimmed, what);
}
