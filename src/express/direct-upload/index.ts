export type { ConfirmedFile } from './confirm.js';
export { type DirectUploadMiddleware, directUpload } from './middleware.js';
export type { MultipartGrant } from './multipart.js';
export type { AuthorizeContext, DirectUploadAction, DirectUploadOptions } from './options.js';
export type { PresignAnswer } from './presign.js';
export { type SweepOptions, type SweepReport, sweepStaged } from './sweep.js';
