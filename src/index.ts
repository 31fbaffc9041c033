export type { CloudinaryConfig } from '../adapters/cloudinary/config.js';
export { DEFAULT_LOCAL_ROOT, type LocalConfig } from '../adapters/local/config.js';
export type { S3Config } from '../adapters/s3/config/index.js';
export { createStorage } from './config/create-storage.js';
export { detectPlatform, type PlatformInfo, warnIfEphemeral } from './config/platform.js';
export {
  parseStorageUrl,
  type ResolvedConfig,
  resolveStorageConfig,
  type StorageConfig,
} from './config/resolve.js';
export { readAll, toReadable } from './core/body.js';
export {
  type ErrorCode,
  isStowageError,
  StowageError,
  type StowageErrorOptions,
  statusOf,
} from './core/errors.js';
export {
  type Digest,
  DigestStream,
  digestFile,
  normaliseSha256,
  sha256Of,
  verifyDigest,
} from './core/integrity.js';
export { encodeKeyPath, MAX_KEY_BYTES, validateKey, validatePrefix } from './core/keys.js';
export type {
  Body,
  ByteRange,
  Capabilities,
  DirectUpload,
  GetOptions,
  GetResult,
  IncompleteUpload,
  ListOptions,
  MultipartUploads,
  ObjectInfo,
  PresignUploadOptions,
  PutOptions,
  SignedPart,
  Storage,
  SweepIncompleteOptions,
  UploadedPart,
  UrlOptions,
} from './core/types.js';
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
} from './loader/manifest.js';
export { type Logger, setLogger } from './util/log.js';
export { redact, registerSecret } from './util/redact.js';
