/**
 * Everything `stowage/s3` exports, imported statically: the module
 * CommonJS apps load through require(esm), which refuses the top-level
 * await index.ts uses (see require.cts).
 */

export type { ChecksumMode, S3StorageOptions } from './options.js';
export { S3_PRESETS, type S3Preset } from './presets.js';
export { S3Storage } from './s3-storage.js';
