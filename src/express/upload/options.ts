import type { IncomingMessage } from 'node:http';
import { checkInteger } from '../../adapter-kit/integer-option.js';
import { checkOptionsObject, invalidArg } from '../../core/args.js';
import type { StowageError } from '../../core/errors.js';
import type { Storage } from '../../core/types.js';
import { DEFAULT_STAGING_PREFIX } from '../../staging/staging.js';
import { DEFAULT_DRAIN_LIMIT } from '../refused-body.js';
import { checkPrefix, type KeyFunction } from './naming.js';
import type { UploadedFile } from './result.js';
import { checkAllowedTypes } from './sniff.js';

export interface UploadOptions {
  /** Largest file in bytes (default 50 MiB). Over it: 413 TOO_LARGE. */
  maxFileSize?: number;
  /** Most files per request (default 10). */
  maxFiles?: number;
  /** Most text fields per request (default 100). */
  maxFields?: number;
  /** Largest text field value in bytes (default 100 KiB). */
  maxFieldSize?: number;
  /** MIME types or prefixes ("image/") accepted, decided by the content's magic bytes. Default: any. */
  allowedTypes?: string[];
  /** Form fields that may carry files; others get 400. Default: any field. */
  fileFields?: string[];
  /** Prefix of default keys (default "uploads"). */
  prefix?: string;
  /** Names each file's final key; default: `<prefix>/<uuid>.<sniffed ext>`. Never the client's name. */
  key?: KeyFunction;
  /** Where bytes wait until they pass every check (default ".staging"). */
  stagingPrefix?: string;
  /** Bytes still read from a client after an error, before its connection is cut (default 8 MiB). */
  drainLimit?: number;
  /** Called once per request when all work, cleanup included, is done: for logs, metrics and tests. */
  onComplete?: (outcome: UploadOutcome, req: IncomingMessage) => void;
}

export interface UploadOutcome {
  ok: boolean;
  /** Set when the request failed or was aborted by the client. */
  error?: StowageError;
  files: UploadedFile[];
}

export interface ResolvedUploadOptions {
  maxFileSize: number;
  maxFiles: number;
  maxFields: number;
  maxFieldSize: number;
  allowedTypes: string[] | undefined;
  fileFields: string[] | undefined;
  prefix: string;
  key: KeyFunction | undefined;
  stagingPrefix: string;
  drainLimit: number;
  /** No request within the limits above is longer: a declared Content-Length over it is refused at once. */
  maxRequestBytes: number;
  onComplete: UploadOptions['onComplete'];
}

// Generous room per part for its boundary line and headers (busboy caps part headers at 16 KiB).
const PART_OVERHEAD = 16 * 1024 + 512;

/** The longest body a request within the file and field limits can have. */
function maxRequestBytes(limits: {
  maxFileSize: number;
  maxFiles: number;
  maxFields: number;
  maxFieldSize: number;
}): number {
  const parts = limits.maxFiles + limits.maxFields + 1;
  return (
    limits.maxFiles * limits.maxFileSize + limits.maxFields * limits.maxFieldSize + parts * PART_OVERHEAD
  );
}

export function resolveUploadOptions(
  storage: Storage,
  options: UploadOptions | undefined,
): ResolvedUploadOptions {
  if (!storage || typeof storage.put !== 'function' || typeof storage.delete !== 'function') {
    throw invalidArg('upload(storage, options): storage must be a Storage, e.g. createStorage()');
  }
  checkOptionsObject(options, 'upload options');
  const o = options ?? {};
  if (o.key !== undefined && typeof o.key !== 'function')
    throw invalidArg('options.key must be a function returning the final key');
  if (o.onComplete !== undefined && typeof o.onComplete !== 'function')
    throw invalidArg('options.onComplete must be a function');
  if (
    o.fileFields !== undefined &&
    (!Array.isArray(o.fileFields) || o.fileFields.some((f) => typeof f !== 'string'))
  ) {
    throw invalidArg('options.fileFields must be an array of form field names');
  }
  const stagingPrefix = checkPrefix(o.stagingPrefix, 'options.stagingPrefix', DEFAULT_STAGING_PREFIX);
  if (stagingPrefix === '') throw invalidArg('options.stagingPrefix must not be empty');
  const prefix = checkPrefix(o.prefix, 'options.prefix', 'uploads');
  if (prefix === stagingPrefix || prefix.startsWith(`${stagingPrefix}/`)) {
    throw invalidArg('options.prefix must not be inside options.stagingPrefix: the sweeper deletes it');
  }
  const limits = {
    maxFileSize: positive(o.maxFileSize, 'options.maxFileSize') ?? 50 * 1024 * 1024,
    maxFiles: positive(o.maxFiles, 'options.maxFiles') ?? 10,
    maxFields: checkInteger(o.maxFields, 'options.maxFields') ?? 100,
    maxFieldSize: positive(o.maxFieldSize, 'options.maxFieldSize') ?? 100 * 1024,
  };
  return {
    ...limits,
    maxRequestBytes: maxRequestBytes(limits),
    allowedTypes: checkAllowedTypes(o.allowedTypes),
    fileFields: o.fileFields,
    prefix,
    key: o.key,
    stagingPrefix,
    drainLimit: checkInteger(o.drainLimit, 'options.drainLimit') ?? DEFAULT_DRAIN_LIMIT,
    onComplete: o.onComplete,
  };
}

function positive(value: unknown, what: string): number | undefined {
  return checkInteger(value, what, { min: 1 });
}
