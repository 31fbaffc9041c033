import type { NextFunction, Request, Response } from 'express';
import { sendError } from './json-response.js';

export interface ErrorHandlerOptions {
  /** Log unexpected (5xx) errors; default true. Messages are redacted. */
  log?: boolean;
}

/**
 * Renders errors as `{ error: { code, message } }` with the status of the
 * error's code (see sendError). Unknown errors become 500 INTERNAL with a
 * generic message: no stack trace or internal detail ever reaches the client.
 */
export function errorHandler(options: ErrorHandlerOptions = {}) {
  const shouldLog = options.log ?? true;
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    sendError(res, err, { method: req.method, where: 'request failed', log: shouldLog });
  };
}
