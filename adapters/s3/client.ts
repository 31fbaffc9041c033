import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { ResolvedS3Options, S3StorageOptions } from './options.js';

/**
 * Builds the SDK client. Retries: the SDK's standard mode (exponential
 * backoff with full jitter, retry quota) for throttling, 5xx and network
 * errors. For non-AWS endpoints the checksum modes default to WHEN_REQUIRED:
 * since 3.729 the SDK otherwise sends aws-chunked bodies with CRC trailers
 * that R2, B2 and others reject and some servers store as data.
 */
export function buildClient(options: S3StorageOptions, resolved: ResolvedS3Options): S3Client {
  if (options.client) return options.client;
  const config: S3ClientConfig = {
    region: resolved.region,
    forcePathStyle: resolved.forcePathStyle,
    maxAttempts: resolved.maxAttempts,
    retryMode: 'standard',
    // Without an explicit region, follow S3's 301 to the bucket's region.
    followRegionRedirects: resolved.isAws && options.region === undefined,
    // Fail fast on an unreachable host (then retried); no idle timeout, so a slow reader of get() is not cut off.
    requestHandler: { connectionTimeout: 10_000 },
  };
  if (resolved.endpoint) config.endpoint = resolved.endpoint;
  if (options.credentials) config.credentials = { ...options.credentials };
  if (resolved.requestChecksumCalculation)
    config.requestChecksumCalculation = resolved.requestChecksumCalculation;
  if (resolved.responseChecksumValidation)
    config.responseChecksumValidation = resolved.responseChecksumValidation;
  return new S3Client(config);
}
