import { checkInteger } from '../../src/adapter-kit/integer-option.js';
import { checkOptionsObject, invalidArg } from '../../src/core/args.js';
import { normalisePrefix } from '../../src/core/keys.js';
import type { UrlOptions } from '../../src/core/types.js';
import { registerSecret } from '../../src/util/redact.js';
import type { CloudinaryConfig } from './config.js';
import type { ResourceType } from './public-id.js';

/** Options of CloudinaryStorage: the configuration a URL can carry, plus tuning. */
export interface CloudinaryStorageOptions extends CloudinaryConfig {
  /** Bytes per chunk of a chunked upload (default 20 MB, Cloudinary's default; at least 5 MB on Cloudinary itself). */
  chunkSize?: number;
  /** Bodies larger than this go through a chunked upload (default: chunkSize). */
  chunkThreshold?: number;
  /** Retries of a rate-limited (420/429) or unavailable call (default 3). */
  maxRetries?: number;
  /** Longest wait between retries, in ms, whatever Retry-After says (default 30 000). */
  maxRetryDelayMs?: number;
  /** Force one resource type for every key instead of choosing by extension / content type. */
  resourceType?: ResourceType;
  /** Invalidate CDN caches on overwrite and delete (default false). */
  invalidate?: boolean;
  /** Sign delivery URLs (needed with strict transformations) (default false). */
  signUrls?: boolean;
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number;
}

/** Everything the adapter needs, validated once. */
export interface Settings {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** Encoded folder plus "/", or "". */
  folder: string;
  uploadPrefix: string;
  signatureAlgorithm: 'sha1' | 'sha256';
  delivery: {
    secure: boolean;
    cname: string;
    privateCdn: boolean;
    secureDistribution: string;
    cdnSubdomain: boolean;
  };
  chunkSize: number;
  chunkThreshold: number;
  maxRetries: number;
  maxRetryDelayMs: number;
  resourceType: ResourceType | undefined;
  invalidate: boolean;
  signUrls: boolean;
  timeoutMs: number;
}

const TYPES = new Set(['image', 'video', 'raw']);

export function resolveSettings(
  options: CloudinaryStorageOptions,
  encodeFolder: (folder: string) => string,
): Settings {
  checkOptionsObject(options, 'CloudinaryStorage options');
  if (!options) throw invalidArg('CloudinaryStorage needs options { cloudName, apiKey, apiSecret }');
  for (const name of ['cloudName', 'apiKey', 'apiSecret'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') {
      throw invalidArg(
        `CloudinaryStorage needs options.${name} (from CLOUDINARY_URL or your Cloudinary console)`,
      );
    }
  }
  registerSecret(options.apiSecret);
  checkOptionsObject(options.options, 'options.options');
  const extra = options.options ?? {};
  const folder = normalisePrefix(options.folder);
  const chunkSize =
    checkInteger(options.chunkSize ?? numberOf(extra.chunk_size), 'options.chunkSize', { min: 1 }) ??
    20_000_000;
  const chunkThreshold =
    checkInteger(options.chunkThreshold, 'options.chunkThreshold', { min: 1 }) ?? chunkSize;
  const maxRetries = checkInteger(options.maxRetries, 'options.maxRetries') ?? 3;
  const maxRetryDelayMs = checkInteger(options.maxRetryDelayMs, 'options.maxRetryDelayMs') ?? 30_000;
  const timeoutMs = checkInteger(options.timeoutMs, 'options.timeoutMs', { min: 1 }) ?? 60_000;
  if (options.resourceType !== undefined && !TYPES.has(options.resourceType)) {
    throw invalidArg('options.resourceType must be "image", "video" or "raw"');
  }
  const algorithm = extra.signature_algorithm ?? 'sha1';
  if (algorithm !== 'sha1' && algorithm !== 'sha256') {
    throw invalidArg('signature_algorithm must be "sha1" or "sha256"');
  }
  const uploadPrefix = (extra.upload_prefix ?? 'https://api.cloudinary.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(uploadPrefix)) {
    throw invalidArg('upload_prefix must be an http(s) URL such as https://api.cloudinary.com');
  }
  const privateCdn = flag(extra.private_cdn, false);
  return {
    cloudName: options.cloudName,
    apiKey: options.apiKey,
    apiSecret: options.apiSecret,
    folder: folder ? `${encodeFolder(folder)}/` : '',
    uploadPrefix,
    signatureAlgorithm: algorithm,
    delivery: {
      secure: flag(extra.secure, true),
      cname: extra.cname ?? '',
      privateCdn,
      secureDistribution:
        extra.secure_distribution ??
        (privateCdn ? `${options.cloudName}-res.cloudinary.com` : 'res.cloudinary.com'),
      cdnSubdomain: flag(extra.cdn_subdomain, false),
    },
    chunkSize,
    chunkThreshold,
    maxRetries,
    maxRetryDelayMs,
    resourceType: options.resourceType,
    invalidate: options.invalidate ?? flag(extra.invalidate, false),
    signUrls: options.signUrls ?? flag(extra.sign_url, false),
    timeoutMs,
  };
}

function flag(value: string | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  return value === 'true' || value === '1';
}

function numberOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/** url() options of the Cloudinary adapter: the shared ones, plus a delivery transformation. */
export interface CloudinaryUrlOptions extends UrlOptions {
  /** Cloudinary transformation: an object (`{ width: 100, crop: 'fill' }`) or a raw string (`w_50,h_50,c_thumb`). */
  transform?: Record<string, unknown> | string;
}
