import type { IncomingMessage } from 'node:http';
import { checkInteger } from '../../adapter-kit/integer-option.js';
import { checkOptionsObject, invalidArg } from '../../core/args.js';
import type { Storage } from '../../core/types.js';
import { DEFAULT_STAGING_PREFIX } from '../../staging/staging.js';
import { checkPrefix, type KeyFunction } from '../upload/naming.js';
import { checkAllowedTypes } from '../upload/sniff.js';
import type { ConfirmedFile } from './confirm.js';
import type { MultipartGrant } from './multipart.js';
import type { PresignAnswer } from './presign.js';

export type DirectUploadAction =
  | 'presign'
  | 'confirm'
  | 'multipart-create'
  | 'multipart-sign'
  | 'multipart-list'
  | 'multipart-complete'
  | 'multipart-abort';

export interface AuthorizeContext {
  action: DirectUploadAction;
  /** The parsed JSON body of the request (for GET and DELETE: the query parameters). */
  body: Record<string, unknown>;
  /** The staging key a multipart request names (checked to be one after authorize). */
  uploadKey?: string;
  /** The multipart upload a request names. */
  uploadId?: string;
}

export interface DirectUploadOptions {
  /**
   * Decides who may upload: only `true` allows (anything else refuses with 403;
   * or throw a StowageError of your own). Required: pass `() => true` to let anyone upload, knowingly.
   */
  authorize: (req: IncomingMessage, context: AuthorizeContext) => boolean | Promise<boolean>;
  /** Largest accepted file in bytes (default 100 MiB); enforced by the backend's grant and at confirm. */
  maxFileSize?: number;
  /** MIME types or prefixes ("image/") accepted, decided at confirm by the content's magic bytes. */
  allowedTypes?: string[];
  /** Prefix of default final keys (default "uploads"). */
  prefix?: string;
  /** Names the final key; default `<prefix>/<uuid>.<sniffed ext>`. */
  key?: KeyFunction;
  /** Where browsers upload to before confirm (default ".staging"). */
  stagingPrefix?: string;
  /** Seconds an upload grant (and each signed part) stays valid (default 600). */
  expiresIn?: number;
  /**
   * Force the single-upload method: 'POST' (a policy: size range, type condition)
   * or 'PUT' (exact size and type signed; the browser must send its size).
   * Default: POST where the store takes it (the S3 profile says), else PUT.
   */
  method?: 'POST' | 'PUT';
  /** Called with each grant before it is answered: remember which user got which uploadKey here. */
  onPresign?: (answer: PresignAnswer, req: IncomingMessage) => unknown;
  /** Called with each multipart upload started, before the answer: remember which user owns it here. */
  onMultipartCreate?: (grant: MultipartGrant, req: IncomingMessage) => unknown;
  /** Called after a file was confirmed and moved, before the answer: record it in your database here. */
  onConfirm?: (file: ConfirmedFile, req: IncomingMessage) => unknown;
  /** Largest JSON body read by the endpoints (default 16 KiB). */
  maxJsonBytes?: number;
}

export interface ResolvedDirectUploadOptions {
  authorize: DirectUploadOptions['authorize'];
  maxFileSize: number;
  allowedTypes: string[] | undefined;
  prefix: string;
  key: KeyFunction | undefined;
  stagingPrefix: string;
  expiresIn: number;
  method: 'POST' | 'PUT' | undefined;
  onPresign: DirectUploadOptions['onPresign'];
  onMultipartCreate: DirectUploadOptions['onMultipartCreate'];
  onConfirm: DirectUploadOptions['onConfirm'];
  maxJsonBytes: number;
}

export function resolveDirectUploadOptions(
  storage: Storage,
  options: DirectUploadOptions,
): ResolvedDirectUploadOptions {
  if (!storage || typeof storage.head !== 'function' || typeof storage.get !== 'function') {
    throw invalidArg('directUpload(storage, options): storage must be a Storage, e.g. createStorage()');
  }
  checkOptionsObject(options, 'directUpload options');
  if (typeof options?.authorize !== 'function') {
    throw invalidArg(
      'directUpload needs options.authorize(req), deciding who may upload; pass () => true to allow anyone',
    );
  }
  if (options.key !== undefined && typeof options.key !== 'function')
    throw invalidArg('options.key must be a function returning the final key');
  if (options.method !== undefined && options.method !== 'POST' && options.method !== 'PUT')
    throw invalidArg('options.method must be "POST" or "PUT" (or left out: chosen from the store)');
  for (const hook of ['onPresign', 'onMultipartCreate', 'onConfirm'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      throw invalidArg(`options.${hook} must be a function`);
  }
  const stagingPrefix = checkPrefix(options.stagingPrefix, 'options.stagingPrefix', DEFAULT_STAGING_PREFIX);
  if (stagingPrefix === '') throw invalidArg('options.stagingPrefix must not be empty');
  const prefix = checkPrefix(options.prefix, 'options.prefix', 'uploads');
  if (prefix === stagingPrefix || prefix.startsWith(`${stagingPrefix}/`)) {
    throw invalidArg('options.prefix must not be inside options.stagingPrefix: the sweeper deletes it');
  }
  const maxFileSize = checkInteger(options.maxFileSize, 'options.maxFileSize') ?? 100 * 1024 * 1024;
  if (maxFileSize === 0) throw invalidArg('options.maxFileSize must be at least 1');
  const expiresIn = checkInteger(options.expiresIn, 'options.expiresIn') ?? 600;
  if (expiresIn === 0) throw invalidArg('options.expiresIn must be at least 1 second');
  return {
    authorize: options.authorize,
    maxFileSize,
    allowedTypes: checkAllowedTypes(options.allowedTypes),
    prefix,
    key: options.key,
    stagingPrefix,
    expiresIn,
    method: options.method,
    onPresign: options.onPresign,
    onMultipartCreate: options.onMultipartCreate,
    onConfirm: options.onConfirm,
    maxJsonBytes: checkInteger(options.maxJsonBytes, 'options.maxJsonBytes') ?? 16 * 1024,
  };
}
