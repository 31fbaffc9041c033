import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Storage } from '../../core/types.js';
import { resolveUploadOptions, type UploadOptions } from './options.js';
import { type Next, UploadRequest } from './upload-request.js';

/** A plain `(req, res, next)` middleware: works with Express 4 and 5 and with connect-style routers. */
export type UploadMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * Streams multipart/form-data files straight into storage (nothing buffered
 * whole, nothing spooled to disk), sniffs their real type, stages them, and
 * promotes them to their final keys only when every check passed. Sets
 * `req.stowage = { files, fields }` and calls next(); errors go to next(err)
 * as StowageError (413, 415, 400, 503) — render them with errorHandler().
 */
export function upload(storage: Storage, options?: UploadOptions): UploadMiddleware {
  const opts = resolveUploadOptions(storage, options);
  return function stowageUpload(req, res, next) {
    new UploadRequest(storage, opts, req, res, next).start();
  };
}
