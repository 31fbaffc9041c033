export {
  type ArtifactsError,
  type ArtifactsHandle,
  type ArtifactsOptions,
  type ArtifactsState,
  type ArtifactsStatus,
  artifacts,
} from './background.js';
export { defaultCacheDir } from './cache.js';
export { type HfPinnedFile, resolveHfFiles } from './hf/resolve-files.js';
export { type LoadArtifactsOptions, loadArtifacts, type RestoredFile } from './load-artifacts.js';
export { type LoadModelOptions, loadModel } from './load-model.js';
export type { LoaderOptions } from './options.js';
export type { FileState, FileStatus } from './progress.js';
export {
  type ReadinessMiddleware,
  type ReadinessOptions,
  type ReadinessResponse,
  type ReadinessSource,
  readiness,
} from './readiness.js';
export type { ModelSource } from './source.js';
