// Placeholder until the adapter lands in its own issue.
import type { S3Config } from '../../src/config.js';
import { StowageError } from '../../src/errors.js';
import type { Storage } from '../../src/types.js';

export const S3Storage = class {
  constructor(_options: S3Config) {
    throw new StowageError('NOT_SUPPORTED', 'the s3 adapter is not built yet');
  }
} as unknown as new (
  options: S3Config,
) => Storage;
