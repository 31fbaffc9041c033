import { isMimeType } from '../adapter-kit/content-type.js';
import { checkInteger } from '../adapter-kit/integer-option.js';
import { StowageError } from './errors.js';
import { normaliseSha256 } from './integrity.js';
import { validateKey } from './keys.js';
import type { ByteRange, PutOptions, UrlOptions } from './types.js';

/** Shared argument checks, so every adapter rejects bad input with the same words. */

export function invalidArg(message: string): StowageError {
  return new StowageError('INVALID_ARGUMENT', message);
}

export function checkOptionsObject(value: unknown, what: string): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw invalidArg(`${what} must be an object when given`);
  }
}

const METADATA_KEY = /^[a-z0-9][a-z0-9_-]*$/;

/** Validates put() options; returns a copy with metadata keys lower-cased and sha256 normalised. */
export function checkPutOptions(opts: PutOptions | undefined): PutOptions {
  checkOptionsObject(opts, 'put options');
  const o: PutOptions = { ...(opts ?? {}) };
  checkInteger(o.size, 'options.size');
  checkInteger(o.maxSize, 'options.maxSize');
  if (o.sha256 !== undefined) o.sha256 = normaliseSha256(o.sha256, 'options.sha256');
  if (o.contentType !== undefined && !isMimeType(o.contentType)) {
    throw invalidArg(
      `options.contentType must be a MIME type such as "image/png", got ${JSON.stringify(o.contentType)}`,
    );
  }
  if (o.metadata !== undefined) {
    checkOptionsObject(o.metadata, 'options.metadata');
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.metadata)) {
      const lower = k.toLowerCase();
      if (!METADATA_KEY.test(lower)) {
        throw invalidArg(`metadata key ${JSON.stringify(k)} must be ASCII letters, digits, "-" or "_"`);
      }
      if (typeof v !== 'string') throw invalidArg(`metadata value for "${k}" must be a string`);
      // Metadata rides in HTTP headers on most backends: keep it printable ASCII.
      if (!/^[\x20-\x7e]*$/.test(v)) {
        throw invalidArg(
          `metadata value for "${k}" must be printable ASCII; encode other text (e.g. encodeURIComponent)`,
        );
      }
      metadata[lower] = v;
    }
    o.metadata = metadata;
  }
  if (o.beforeCommit !== undefined && typeof o.beforeCommit !== 'function') {
    throw invalidArg('options.beforeCommit must be a function returning a promise');
  }
  if (o.size !== undefined && o.maxSize !== undefined && o.size > o.maxSize) {
    throw new StowageError('TOO_LARGE', `options.size (${o.size}) exceeds options.maxSize (${o.maxSize})`);
  }
  return o;
}

export function checkRange(range: ByteRange | undefined): ByteRange | undefined {
  if (range === undefined) return undefined;
  checkOptionsObject(range, 'options.range');
  const start = checkInteger(range.start, 'range.start');
  if (start === undefined) throw invalidArg('range.start is required (the first byte, inclusive)');
  const end = checkInteger(range.end, 'range.end');
  if (end !== undefined && end < start) {
    throw new StowageError('INVALID_RANGE', `range end (${end}) is before its start (${start})`);
  }
  return end === undefined ? { start } : { start, end };
}

/** Resolves a validated range against an object size, or throws INVALID_RANGE. */
export function resolveRange(range: ByteRange, size: number, key: string): { start: number; end: number } {
  if (range.start >= size) {
    throw new StowageError(
      'INVALID_RANGE',
      `range starts at byte ${range.start} but "${key}" has ${size} bytes`,
      { key },
    );
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

export function checkUrlOptions<T extends UrlOptions>(opts: T | undefined): T {
  checkOptionsObject(opts, 'url options');
  const o = { ...(opts ?? {}) } as T;
  if (
    o.expiresIn !== undefined &&
    (typeof o.expiresIn !== 'number' || !(o.expiresIn > 0) || !Number.isFinite(o.expiresIn))
  ) {
    throw invalidArg(`options.expiresIn must be a positive number of seconds, got ${String(o.expiresIn)}`);
  }
  if (
    o.download !== undefined &&
    typeof o.download !== 'boolean' &&
    (typeof o.download !== 'string' || o.download.trim() === '')
  ) {
    throw invalidArg('options.download must be true or a non-empty file name');
  }
  return o;
}

export { validateKey };
