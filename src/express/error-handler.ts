import type { NextFunction, Request, Response } from 'express';
import { StowageError } from '../errors.js';
import { log } from '../log.js';

export interface ErrorHandlerOptions {
  /** Log unexpected (5xx) errors; default true. Messages are redacted. */
  log?: boolean;
}

/**
 * Renders errors as `{ error: { code, message } }` with the error's HTTP
 * status. Unknown errors become 500 INTERNAL with a generic message: no
 * stack trace or internal detail ever reaches the client.
 */
export function errorHandler(options: ErrorHandlerOptions = {}) {
  const shouldLog = options.log ?? true;
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = err instanceof StowageError ? err : undefined;
    const status = known?.status ?? httpStatusOf(err) ?? 500;
    if (shouldLog && status >= 500)
      log.warn(
        `request failed: ${known ? `${known.code} ${known.message}` : String((err as Error)?.message ?? err)}`,
      );
    if (known?.retryAfter !== undefined) res.setHeader('Retry-After', String(known.retryAfter));
    else if (known?.code === 'UNAVAILABLE' && known.retryable) res.setHeader('Retry-After', '5');
    const body = known
      ? { error: { code: known.code, message: known.message } }
      : status < 500
        ? { error: { code: 'INVALID_ARGUMENT', message: 'bad request' } }
        : { error: { code: 'INTERNAL', message: 'internal error' } };
    res.status(status).json(body);
  };
}

/** Errors from body parsers and http-errors carry a status; respect 4xx ones. */
function httpStatusOf(err: unknown): number | undefined {
  const status =
    (err as { status?: unknown; statusCode?: unknown })?.status ??
    (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}
