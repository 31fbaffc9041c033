export type { CloudinaryConfig } from '../adapters/cloudinary/config.js';
export { DEFAULT_LOCAL_ROOT, type LocalConfig } from '../adapters/local/config.js';
export type { S3Config } from '../adapters/s3/config/index.js';
export { readAll, toReadable } from './body.js';
export { detectPlatform, type PlatformInfo, warnIfEphemeral } from './config/platform.js';
export {
  parseStorageUrl,
  type ResolvedConfig,
  resolveStorageConfig,
  type StorageConfig,
} from './config/resolve.js';
export { createStorage } from './create-storage.js';
export {
  type ErrorCode,
  isStowageError,
  StowageError,
  type StowageErrorOptions,
  statusOf,
} from './errors.js';
export {
  type Digest,
  DigestStream,
  digestFile,
  normaliseSha256,
  sha256Of,
  verifyDigest,
} from './integrity.js';
export { encodeKeyPath, MAX_KEY_BYTES, validateKey, validatePrefix } from './keys.js';
export {
  type ArtifactsError,
  type ArtifactsHandle,
  type ArtifactsOptions,
  type ArtifactsState,
  type ArtifactsStatus,
  artifacts,
  defaultCacheDir,
  type FileStatus,
  type HfPinnedFile,
  type LoadArtifactsOptions,
  type LoaderOptions,
  type LoadModelOptions,
  loadArtifacts,
  loadModel,
  type ModelSource,
  type RestoredFile,
  readiness,
  resolveHfFiles,
} from './loader/index.js';
export { type Logger, setLogger } from './log.js';
export {
  MANIFEST_FILE,
  type Manifest,
  type ManifestEntry,
  mergeManifests,
  parseManifest,
  readManifest,
  type SourceEntry,
  type StoredEntry,
  serializeManifest,
  writeManifest,
} from './manifest.js';
export { redact, registerSecret } from './redact.js';
export type {
  Body,
  ByteRange,
  Capabilities,
  DirectUpload,
  GetOptions,
  GetResult,
  IncompleteUpload,
  ListOptions,
  ObjectInfo,
  PresignUploadOptions,
  PutOptions,
  Storage,
  SweepIncompleteOptions,
  UrlOptions,
} from './types.js';
