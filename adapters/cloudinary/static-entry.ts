/**
 * Everything `stowage/cloudinary` exports, imported statically: the module
 * CommonJS apps load through require(esm), which refuses the top-level
 * await index.ts uses (see require.cts).
 */
export { CloudinaryStorage } from './cloudinary-storage.js';
export type {
  ResourceType,
  Target as CloudinaryTarget,
} from './public-id.js';
export type { CloudinaryStorageOptions, CloudinaryUrlOptions } from './settings.js';
