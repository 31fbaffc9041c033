import { randomUUID } from 'node:crypto';
import type { S3StorageOptions } from '../../adapters/s3/index.js';
import { parseStorageUrl } from '../../src/config/resolve.js';

/**
 * Live-store settings: STOWAGE_TEST_S3_URL (s3://bucket/prefix?region=…&endpoint=…,
 * credentials in the URL or in STOWAGE_TEST_S3_ACCESS_KEY_ID / STOWAGE_TEST_S3_SECRET_ACCESS_KEY).
 * Ambient AWS_* variables are deliberately not used: a test run must not write to
 * whatever account the shell happens to hold.
 */
export function liveS3Options(env: NodeJS.ProcessEnv = process.env): {
  options?: S3StorageOptions;
  reason: string;
} {
  const url = env.STOWAGE_TEST_S3_URL;
  if (!url) return { reason: 'STOWAGE_TEST_S3_URL is not set (e.g. s3://bucket/prefix?region=eu-west-1)' };
  const parsed = parseStorageUrl(url);
  if (parsed.adapter !== 's3') return { reason: 'STOWAGE_TEST_S3_URL is not an s3:// URL' };
  const options: S3StorageOptions = { ...parsed.options };
  const id = env.STOWAGE_TEST_S3_ACCESS_KEY_ID;
  const secret = env.STOWAGE_TEST_S3_SECRET_ACCESS_KEY;
  if (!options.credentials && id && secret)
    options.credentials = { accessKeyId: id, secretAccessKey: secret };
  if (!options.credentials) {
    return {
      reason:
        'no credentials: put them in STOWAGE_TEST_S3_URL or set STOWAGE_TEST_S3_ACCESS_KEY_ID and STOWAGE_TEST_S3_SECRET_ACCESS_KEY',
    };
  }
  options.prefix = `${options.prefix ? `${options.prefix}/` : ''}stowage-test-${randomUUID().slice(0, 8)}`;
  return { options, reason: '' };
}
