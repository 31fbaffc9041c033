// The root entry point: the Storage contract, createStorage, errors, the boot
// loader and platform detection. Adapters have their own entry points
// (stowage/local, /memory, /s3, /cloudinary), middleware is stowage/express,
// the programmatic CLI is stowage/cli; everything else is internal.
export { createStorage } from './config/create-storage.js';
export { detectPlatform, type PlatformInfo, warnIfEphemeral } from './config/platform.js';
export type { StorageConfig } from './config/resolve.js';
export { type ErrorCode, isStowageError, StowageError, type StowageErrorOptions } from './core/errors.js';
export type {
  Body,
  ByteRange,
  Capabilities,
  DirectUpload,
  GetOptions,
  GetResult,
  IncompleteUpload,
  ListedObject,
  ListOptions,
  MultipartUploads,
  ObjectInfo,
  PresignUploadOptions,
  PutOptions,
  SignedPart,
  StagedDigest,
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
  type FileStatus,
  type HfPinnedFile,
  type LoadArtifactsOptions,
  type LoaderOptions,
  type LoadModelOptions,
  loadArtifacts,
  loadModel,
  type ModelSource,
  type RestoredFile,
  resolveHfFiles,
} from './loader/index.js';
export { registerSecret } from './util/redact.js';
