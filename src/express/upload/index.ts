export { type UploadMiddleware, upload } from './middleware.js';
export type { KeyContext, KeyFunction } from './naming.js';
export type { UploadOptions, UploadOutcome } from './options.js';
export { type UploadedFile, type UploadResult, uploadResult } from './result.js';
