import { checkOptionsObject, checkPutOptions, invalidArg } from '../../src/core/args.js';
import { StowageError } from '../../src/core/errors.js';
import type { PresignUploadOptions } from '../../src/core/types.js';
import { checkUserMetadata } from './metadata.js';
import type { S3Preset } from './presets.js';
import type { PresignPutRequest } from './presign-put.js';
import { MAX_PRESIGN_SECONDS } from './urls.js';

const DEFAULT_EXPIRES = 600;
/** S3's largest PutObject. */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;

/**
 * POST where the store takes browser POST uploads (its profile says so),
 * PUT where it does not (R2, B2, …); `opts.method` forces one.
 */
export function choosePresignMethod(
  opts: PresignUploadOptions,
  preset: S3Preset | undefined,
): 'POST' | 'PUT' {
  checkOptionsObject(opts, 'presignUpload options');
  const method = opts?.method;
  if (method !== undefined && method !== 'POST' && method !== 'PUT') {
    throw invalidArg(`options.method must be "POST" or "PUT", got ${String(method)}`);
  }
  return method ?? (preset?.presignedPost === false ? 'PUT' : 'POST');
}

/** The checked inputs of a presigned PUT: exact size within maxSize, one exact type. */
export function putRequestOf(s3Key: string, key: string, opts: PresignUploadOptions): PresignPutRequest {
  if (opts === undefined || opts === null)
    throw invalidArg('presignUpload needs options with maxSize (bytes)');
  const { maxSize, size } = opts;
  if (typeof maxSize !== 'number' || !Number.isSafeInteger(maxSize) || maxSize < 1) {
    throw invalidArg(`options.maxSize must be a positive integer number of bytes, got ${String(maxSize)}`);
  }
  if (size === undefined) {
    throw invalidArg('a presigned PUT signs the exact size: pass options.size (the browser sends file.size)');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalidArg(`options.size must be a byte count, got ${String(size)}`);
  }
  if (size > MAX_SINGLE_PUT) {
    throw new StowageError(
      'TOO_LARGE',
      `a single upload takes at most 5 GiB (${size} bytes): upload it in parts`,
      {
        key,
      },
    );
  }
  if (size > maxSize) {
    throw new StowageError('TOO_LARGE', `the file is ${size} bytes, over the limit of ${maxSize}`, { key });
  }
  const expiresIn = opts.expiresIn ?? DEFAULT_EXPIRES;
  if (typeof expiresIn !== 'number' || !(expiresIn > 0) || expiresIn > MAX_PRESIGN_SECONDS) {
    throw invalidArg(
      `options.expiresIn must be from 1 to ${MAX_PRESIGN_SECONDS} seconds, got ${String(expiresIn)}`,
    );
  }
  const { metadata = {} } = checkPutOptions({ metadata: opts.metadata });
  checkUserMetadata(metadata);
  const contentType = opts.contentType ?? 'application/octet-stream';
  if (typeof contentType !== 'string') throw invalidArg('options.contentType must be a MIME type string');
  return { s3Key, key, size, contentType, metadata, seconds: Math.ceil(expiresIn) };
}
