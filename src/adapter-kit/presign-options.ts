import { checkOptionsObject, checkPutOptions, invalidArg } from '../core/args.js';
import type { PresignUploadOptions } from '../core/types.js';
import { isMimeTypeOrPrefix } from './content-type.js';
import { checkInteger } from './integer-option.js';

export interface CheckedPresignOptions {
  maxSize: number;
  /** Seconds, above 0 and within the backend's window. */
  expiresIn: number;
  /** An exact type or a prefix ending in "/". */
  contentType: string | undefined;
  /** The content type when exact, undefined for a prefix or none. */
  exactType: string | undefined;
  /** Keys lower-cased, values checked as put() checks them. */
  metadata: Record<string, string>;
}

const DEFAULT_EXPIRES = 600;

/**
 * The presignUpload() option check every adapter makes, INVALID_ARGUMENT
 * naming the option: maxSize a positive integer (required), expiresIn a
 * number of seconds above 0 and at most the backend's `maxExpiresIn`
 * (default 600, capped there), contentType an exact MIME type or a prefix
 * ending in "/", metadata as put() takes it.
 */
export function checkPresignOptions(
  opts: PresignUploadOptions | undefined,
  backend: { maxExpiresIn: number; why?: string },
): CheckedPresignOptions {
  checkOptionsObject(opts, 'presignUpload options');
  if (opts?.maxSize === undefined)
    throw invalidArg('options.maxSize is required: the largest upload to accept, in bytes');
  const maxSize = checkInteger(opts.maxSize, 'options.maxSize', { min: 1, note: '(bytes)' }) as number;
  const expiresIn = opts.expiresIn ?? Math.min(DEFAULT_EXPIRES, backend.maxExpiresIn);
  if (typeof expiresIn !== 'number' || !(expiresIn > 0) || expiresIn > backend.maxExpiresIn) {
    const why = backend.why ? ` (${backend.why})` : '';
    throw invalidArg(
      `options.expiresIn must be from 1 to ${backend.maxExpiresIn} seconds${why}, got ${String(expiresIn)}`,
    );
  }
  const { contentType } = opts;
  if (contentType !== undefined && !isMimeTypeOrPrefix(contentType)) {
    throw invalidArg(
      'options.contentType must be a MIME type ("image/png") or a prefix ending in "/" ("image/")',
    );
  }
  const { metadata = {} } = checkPutOptions({ metadata: opts.metadata });
  const exactType = contentType && !contentType.endsWith('/') ? contentType : undefined;
  return { maxSize, expiresIn, contentType, exactType, metadata };
}
