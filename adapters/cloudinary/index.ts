// Placeholder until the adapter lands in its own issue.
import type { CloudinaryConfig } from '../../src/config.js';
import { StowageError } from '../../src/errors.js';
import type { Storage } from '../../src/types.js';

export const CloudinaryStorage = class {
  constructor(_options: CloudinaryConfig) {
    throw new StowageError('NOT_SUPPORTED', 'the cloudinary adapter is not built yet');
  }
} as unknown as new (
  options: CloudinaryConfig,
) => Storage;
