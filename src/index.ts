export { readAll, toReadable } from './body.js';
export {
  type CloudinaryConfig,
  DEFAULT_LOCAL_ROOT,
  type LocalConfig,
  parseStorageUrl,
  type ResolvedConfig,
  resolveStorageConfig,
  type S3Config,
  type StorageConfig,
} from './config.js';
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
  type LoadArtifactsOptions,
  type LoaderOptions,
  type LoadModelOptions,
  loadArtifacts,
  loadModel,
  type ModelSource,
  type RestoredFile,
  readiness,
} from './loader/index.js';
export { type Logger, setLogger } from './log.js';
export {
  MANIFEST_FILE,
  type Manifest,
  type ManifestEntry,
  mergeManifests,
  parseManifest,
  readManifest,
  serializeManifest,
  writeManifest,
} from './manifest.js';
export { detectPlatform, type PlatformInfo, warnIfEphemeral } from './platform.js';
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
