import { StowageError } from '../../core/errors.js';
import type { MultipartUploads, Storage } from '../../core/types.js';
import { isStagingKey, newStagingKey } from '../../staging/staging.js';
import { isAllowedType } from '../upload/sniff.js';
import type { ResolvedDirectUploadOptions } from './options.js';

/** What the create endpoint answers (Companion's shape, plus the part size to use). */
export interface MultipartGrant {
  /** The staging key: send it as `key` to the other multipart endpoints, then as `uploadKey` to confirm. */
  key: string;
  uploadKey: string;
  uploadId: string;
  /** Send parts of exactly this size (the last may be smaller). */
  partSize: number;
  /** Part numbers go from 1 to this. */
  maxParts: number;
  maxSize: number;
}

export function multipartOf(storage: Storage): MultipartUploads {
  const mp = storage.multipartUpload;
  if (!mp) {
    throw new StowageError(
      'NOT_SUPPORTED',
      `the ${storage.name} adapter has no multipart uploads from browsers; use the single upload (presign) instead`,
    );
  }
  return mp;
}

/** Starts an upload to a fresh staging key; a declared size or type is checked first. */
export async function createMultipart(
  mp: MultipartUploads,
  opts: ResolvedDirectUploadOptions,
  input: { size?: unknown; contentType?: unknown },
): Promise<MultipartGrant> {
  const size = declaredSize(input.size, opts.maxFileSize);
  const contentType = declaredType(input.contentType, opts.allowedTypes);
  const uploadKey = newStagingKey(opts.stagingPrefix);
  const { uploadId } = await mp.create(uploadKey, contentType ? { contentType } : {});
  return {
    key: uploadKey,
    uploadKey,
    uploadId,
    // Without a declared size, a part size that fits the largest file allowed.
    partSize: mp.partSize(size ?? opts.maxFileSize),
    maxParts: maxPartsFor(mp, opts.maxFileSize),
    maxSize: opts.maxFileSize,
  };
}

/**
 * The staging key a multipart request names. Only keys this middleware hands
 * out pass: a client-chosen key (a final key, another prefix) is refused
 * before anything is signed; the store binds the uploadId to its key.
 */
export function uploadKeyOf(value: unknown, opts: ResolvedDirectUploadOptions): string {
  if (!isStagingKey(value, opts.stagingPrefix)) {
    throw new StowageError('ACCESS_DENIED', 'key must be the key the multipart create endpoint returned');
  }
  return value;
}

/** Every part of a file within maxFileSize has a number up to this: all but the last are ≥ minPartSize. */
export function maxPartsFor(mp: MultipartUploads, maxFileSize: number): number {
  return Math.max(1, Math.min(mp.maxParts, Math.ceil(maxFileSize / mp.minPartSize)));
}

export function partNumbersOf(
  raw: string | undefined,
  mp: MultipartUploads,
  opts: ResolvedDirectUploadOptions,
): number[] {
  const limit = maxPartsFor(mp, opts.maxFileSize);
  const list = (raw ?? '').split(',').filter((s) => s !== '');
  if (list.length === 0 || list.length > 1000) {
    throw new StowageError('INVALID_ARGUMENT', 'name from 1 to 1000 part numbers, e.g. partNumbers=1,2,3');
  }
  return list.map((text) => {
    const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= 1)) throw new StowageError('INVALID_ARGUMENT', `"${text.slice(0, 20)}" is not a part number`);
    if (n > limit) {
      throw new StowageError(
        'TOO_LARGE',
        `part ${n} is past the last part a file of at most ${opts.maxFileSize} bytes can have (${limit})`,
      );
    }
    return n;
  });
}

/**
 * Completes the upload once its parts pass: their sum within maxFileSize
 * (else the upload is aborted: 413), all but the last the same size.
 */
export async function completeMultipart(
  mp: MultipartUploads,
  opts: ResolvedDirectUploadOptions,
  uploadKey: string,
  uploadId: string,
  body: Record<string, unknown>,
): Promise<{ size: number }> {
  const wanted = partsOf(body.parts);
  const listed = await mp.listParts(uploadKey, uploadId);
  const total = listed.reduce((sum, part) => sum + part.size, 0);
  if (total > opts.maxFileSize) {
    await mp.abort(uploadKey, uploadId);
    throw new StowageError(
      'TOO_LARGE',
      `the parts hold ${total} bytes, over the limit of ${opts.maxFileSize}: the upload was aborted`,
    );
  }
  const sizes = new Map(listed.map((part) => [part.partNumber, part.size]));
  const ordered = [...wanted].sort((a, b) => a.partNumber - b.partNumber);
  for (const [i, part] of ordered.entries()) {
    const size = sizes.get(part.partNumber);
    if (size === undefined) {
      throw new StowageError('INVALID_ARGUMENT', `part ${part.partNumber} was never uploaded`);
    }
    if (i < ordered.length - 1 && size !== sizes.get(ordered[0]!.partNumber)) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        'all parts but the last must be the same size (some stores, such as R2, refuse others)',
      );
    }
  }
  const info = await mp.complete(uploadKey, uploadId, ordered);
  return { size: info.size };
}

/** Companion sends [{ PartNumber, ETag }]; stowage's own client may send { partNumber, etag }. */
function partsOf(value: unknown): Array<{ partNumber: number; etag: string }> {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10_000) {
    throw new StowageError('INVALID_ARGUMENT', 'parts must be a list of { PartNumber, ETag }');
  }
  return value.map((raw) => {
    const part = raw as Record<string, unknown>;
    const partNumber = part?.PartNumber ?? part?.partNumber;
    const etag = part?.ETag ?? part?.etag;
    if (typeof partNumber !== 'number' || !Number.isSafeInteger(partNumber) || typeof etag !== 'string') {
      throw new StowageError('INVALID_ARGUMENT', 'parts must be a list of { PartNumber, ETag }');
    }
    return { partNumber, etag };
  });
}

export function declaredSize(value: unknown, maxFileSize: number): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const size = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new StowageError('INVALID_ARGUMENT', 'size must be the file size in bytes');
  }
  if (size > maxFileSize) {
    throw new StowageError('TOO_LARGE', `the file is ${size} bytes, over the limit of ${maxFileSize}`);
  }
  return size;
}

/** The browser's type, a hint refused early when not allowed; the real type is sniffed at confirm. */
export function declaredType(value: unknown, allowedTypes: string[] | undefined): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(value)) {
    throw new StowageError('INVALID_ARGUMENT', 'the type must be a MIME type such as "image/png"');
  }
  if (!isAllowedType(value, allowedTypes)) {
    throw new StowageError('UNSUPPORTED_TYPE', `${value} files are not accepted here`);
  }
  return value;
}
