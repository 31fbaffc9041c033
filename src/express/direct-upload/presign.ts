import type { IncomingMessage } from 'node:http';
import { isMimeType } from '../../adapter-kit/content-type.js';
import { checkInteger } from '../../adapter-kit/integer-option.js';
import { StowageError } from '../../core/errors.js';
import type { DirectUpload, PresignUploadOptions, Storage } from '../../core/types.js';
import { newStagingKey } from '../../staging/staging.js';
import { isAllowedType } from '../upload/sniff.js';
import type { ResolvedDirectUploadOptions } from './options.js';

export interface PresignAnswer {
  /** The staging key: send it back to the confirm endpoint. */
  uploadKey: string;
  /** How the browser uploads: method, url, form fields, file field, headers. */
  upload: DirectUpload;
  maxSize: number;
  expiresAt: string;
}

/** Grants one upload to a fresh staging key, within maxFileSize (and the declared type, when sent). */
export async function presign(
  storage: Storage,
  opts: ResolvedDirectUploadOptions,
  body: Record<string, unknown>,
  _req: IncomingMessage,
): Promise<PresignAnswer> {
  if (typeof storage.presignUpload !== 'function') {
    throw new StowageError(
      'NOT_SUPPORTED',
      `the ${storage.name} adapter cannot take uploads straight from browsers; use upload() instead, or S3/Cloudinary`,
    );
  }
  const { contentType } = body;
  const size = checkInteger(body.size, 'size', { note: '(the file size in bytes)' });
  if (size !== undefined) {
    if (size > opts.maxFileSize)
      throw new StowageError('TOO_LARGE', `the file is ${size} bytes, over the limit of ${opts.maxFileSize}`);
  }
  const grant: PresignUploadOptions = { maxSize: opts.maxFileSize, expiresIn: opts.expiresIn };
  if (size !== undefined) grant.size = size;
  if (opts.method) grant.method = opts.method;
  if (contentType !== undefined) {
    // Only a hint for the backend's policy: the real type is sniffed at confirm.
    // A bare type: the grant's policy has no room for parameters.
    if (!isMimeType(contentType) || contentType.includes(';'))
      throw new StowageError('INVALID_ARGUMENT', 'contentType must be a MIME type such as "image/png"');
    if (!isAllowedType(contentType, opts.allowedTypes))
      throw new StowageError('UNSUPPORTED_TYPE', `${contentType} files are not accepted here`);
    grant.contentType = contentType;
  }
  const uploadKey = newStagingKey(opts.stagingPrefix);
  const upload = await storage.presignUpload(uploadKey, grant);
  return { uploadKey, upload, maxSize: opts.maxFileSize, expiresAt: upload.expiresAt.toISOString() };
}
