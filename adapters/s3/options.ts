import type { S3Client } from '@aws-sdk/client-s3';
import { checkInteger } from '../../src/adapter-kit/integer-option.js';
import { checkOptionsObject, invalidArg } from '../../src/core/args.js';
import { normalisePrefix } from '../../src/core/keys.js';
import { registerSecret } from '../../src/util/redact.js';
import type { S3Config } from './config/types.js';
import { findPreset, type S3Preset } from './presets.js';

export type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

/** Options of S3Storage: the S3Config that configuration builds, plus tuning. */
export interface S3StorageOptions extends S3Config {
  /** Multipart part size in bytes (min 5 MiB, default 8 MiB). Bodies up to this size go in one PutObject. */
  partSize?: number;
  /** Parts uploaded in parallel (default 4). Memory use is about partSize × (queueSize + 1). */
  queueSize?: number;
  /** Retries of retryable failures, with jittered exponential backoff (default 3). */
  maxRetries?: number;
  /** Bring your own client; endpoint, region, credentials and retry options are then ignored. */
  client?: S3Client;
  /** Default: 'WHEN_REQUIRED' for non-AWS endpoints, the SDK's default for AWS. */
  requestChecksumCalculation?: ChecksumMode;
  responseChecksumValidation?: ChecksumMode;
  /**
   * The store answers DeleteObjects (default: the preset's, else true). When
   * false, deleteMany() deletes key by key.
   */
  batchDelete?: boolean;
  /** Objects above this size are copied part by part (default and S3 maximum: 5 GiB). */
  multipartCopyThreshold?: number;
  /** Part size of a multipart copy (default 512 MiB). */
  copyPartSize?: number;
}

export interface ResolvedS3Options {
  bucket: string;
  /** "" or "a/b/" — always ends with "/" when set. */
  rootPrefix: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  isAws: boolean;
  preset: S3Preset | undefined;
  batchDelete: boolean;
  publicBaseUrl: string | undefined;
  partSize: number;
  queueSize: number;
  maxAttempts: number;
  requestChecksumCalculation: ChecksumMode | undefined;
  responseChecksumValidation: ChecksumMode | undefined;
  multipartCopyThreshold: number;
  copyPartSize: number;
}

const MiB = 1024 * 1024;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;

export function resolveOptions(options: S3StorageOptions): ResolvedS3Options {
  checkOptionsObject(options, 'S3Storage options');
  if (!options || typeof options.bucket !== 'string' || options.bucket.trim() === '') {
    throw invalidArg('S3Storage needs options.bucket, the bucket name (e.g. { bucket: "my-uploads" })');
  }
  if (options.credentials !== undefined) {
    const c = options.credentials;
    if (typeof c?.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string') {
      throw invalidArg('options.credentials needs accessKeyId and secretAccessKey strings');
    }
    registerSecret(c.secretAccessKey);
    registerSecret(c.sessionToken);
  }
  const preset = findPreset(options.preset);
  const region = stringOption(options.region, 'region') ?? preset?.region ?? 'us-east-1';
  let endpoint = stringOption(options.endpoint, 'endpoint') ?? preset?.endpoint;
  if (endpoint === undefined && preset?.endpointFor && options.region) endpoint = preset.endpointFor(region);
  if (endpoint === undefined && preset?.endpointHelp && !options.client) {
    throw invalidArg(`the ${preset.label} preset needs an endpoint: ${preset.endpointHelp}`);
  }
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      throw invalidArg('options.endpoint must be an absolute URL such as "https://s3.example.com"');
    }
  }
  const isAws = endpoint === undefined || /\.amazonaws\.com(\.cn)?(:\d+)?$/i.test(new URL(endpoint).host);
  const nonAwsDefault: ChecksumMode | undefined = isAws ? preset?.checksums : 'WHEN_REQUIRED';
  const partSize =
    checkInteger(options.partSize, 'options.partSize', { min: MIN_PART_SIZE, max: MAX_PART_SIZE }) ?? 8 * MiB;
  const prefix = normalisePrefix(options.prefix);
  return {
    bucket: options.bucket.trim(),
    rootPrefix: prefix ? `${prefix}/` : '',
    region,
    endpoint,
    forcePathStyle: options.forcePathStyle ?? preset?.forcePathStyle ?? false,
    isAws,
    preset,
    batchDelete: booleanOption(options.batchDelete, 'batchDelete') ?? preset?.batchDelete ?? true,
    publicBaseUrl: stringOption(options.publicBaseUrl, 'publicBaseUrl')?.replace(/\/+$/, ''),
    partSize,
    queueSize: checkInteger(options.queueSize, 'options.queueSize', { min: 1, max: 64 }) ?? 4,
    maxAttempts: (checkInteger(options.maxRetries, 'options.maxRetries', { min: 0, max: 20 }) ?? 3) + 1,
    requestChecksumCalculation: checksumOption(options.requestChecksumCalculation) ?? nonAwsDefault,
    responseChecksumValidation: checksumOption(options.responseChecksumValidation) ?? nonAwsDefault,
    multipartCopyThreshold:
      checkInteger(options.multipartCopyThreshold, 'options.multipartCopyThreshold', {
        min: 1,
        max: MAX_PART_SIZE,
      }) ?? MAX_PART_SIZE,
    copyPartSize:
      checkInteger(options.copyPartSize, 'options.copyPartSize', {
        min: MIN_PART_SIZE,
        max: MAX_PART_SIZE,
      }) ?? 512 * MiB,
  };
}

function stringOption(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidArg(`options.${name} must be a string`);
  return value;
}

function booleanOption(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArg(`options.${name} must be true or false`);
  return value;
}

function checksumOption(value: unknown): ChecksumMode | undefined {
  if (value === undefined) return undefined;
  if (value !== 'WHEN_SUPPORTED' && value !== 'WHEN_REQUIRED') {
    throw invalidArg('checksum options must be "WHEN_SUPPORTED" or "WHEN_REQUIRED"');
  }
  return value;
}
