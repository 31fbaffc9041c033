import { extname } from 'node:path/posix';
import type mimeTypes from 'mime-types';
import { lazyRequire } from '../util/lazy-require.js';

// Loaded on the first put without a type: its database costs start-up time the CLI's common paths skip.
const mime = lazyRequire<typeof mimeTypes>('mime-types');

/** What every store answers for an object with no known type (S3 servers say so on their own). */
export const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/**
 * The one content-type rule every adapter follows: the type given wins,
 * else the one the key's extension names ("a.png" is image/png), else
 * application/octet-stream. Only a real extension counts: "json" and ".png" have none.
 */
export function defaultContentType(key: string, given?: string): string {
  if (given) return given;
  const extension = extname(key);
  return (extension && mime().lookup(extension)) || FALLBACK_CONTENT_TYPE;
}

const MIME_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/;
const MIME_TYPE_OR_PREFIX = /^[\w.+-]+\/([\w.+-]+)?$/;

/** "type/subtype", parameters allowed ("text/plain; charset=utf-8"): what put() stores. */
export function isMimeType(value: unknown): value is string {
  return typeof value === 'string' && MIME_TYPE.test(value);
}

/** An exact "type/subtype" or a prefix ending in "/" ("image/"): what an upload grant may restrict to. */
export function isMimeTypeOrPrefix(value: unknown): value is string {
  return typeof value === 'string' && MIME_TYPE_OR_PREFIX.test(value);
}
