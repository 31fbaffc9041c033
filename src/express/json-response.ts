import type { ServerResponse } from 'node:http';
import { type ErrorCode, isStowageError } from '../core/errors.js';
import { log } from '../util/log.js';

/** Seconds a client is told to wait before retrying when the error does not say. */
const DEFAULT_RETRY_AFTER = 5;

/** What a client is told about a failure. */
interface ErrorAnswer {
  status: number;
  code: ErrorCode;
  message: string;
  /** Seconds for Retry-After; set for retryable errors only. */
  retryAfter: number | undefined;
}

/** Statuses that other libraries' errors (body parsers, http-errors) carry, as the code the table gives them. */
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  403: 'ACCESS_DENIED',
  404: 'NOT_FOUND',
  413: 'TOO_LARGE',
  415: 'UNSUPPORTED_TYPE',
  416: 'INVALID_RANGE',
};

/**
 * The one rule for error answers of errorHandler(), serve() and
 * directUpload(): a StowageError answers its code's status (the README's
 * table), its code and its (redacted) message; another library's 4xx error
 * keeps its status with a generic message; anything else is 500 INTERNAL, so
 * no stack or internal detail reaches the client. Every retryable error gets
 * Retry-After: its own `retryAfter`, else 5 s.
 */
function errorAnswer(err: unknown): ErrorAnswer {
  if (isStowageError(err)) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      retryAfter: err.retryable ? (err.retryAfter ?? DEFAULT_RETRY_AFTER) : undefined,
    };
  }
  const status = clientStatusOf(err);
  if (status !== undefined) {
    return {
      status,
      code: CODE_OF_STATUS[status] ?? 'INVALID_ARGUMENT',
      message: 'bad request',
      retryAfter: undefined,
    };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', retryAfter: undefined };
}

/**
 * Answers `err` as `{ error: { code, message } }`. Server errors (5xx) are
 * logged, redacted, with `where` in front.
 */
export function sendError(
  res: ServerResponse,
  err: unknown,
  options: { method: string | undefined; where: string; log?: boolean },
): void {
  const answer = errorAnswer(err);
  if (answer.status >= 500 && options.log !== false) {
    const detail = isStowageError(err)
      ? `${err.code} ${err.message}`
      : String((err as Error)?.message ?? err);
    log.warn(`${options.where}: ${detail}`);
  }
  if (answer.retryAfter !== undefined) res.setHeader('Retry-After', String(answer.retryAfter));
  sendJson(res, answer.status, { error: { code: answer.code, message: answer.message } }, options.method);
}

/** A JSON answer no cache keeps and no browser sniffs; HEAD gets the headers only. */
export function sendJson(res: ServerResponse, status: number, body: unknown, method?: string): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.end(method === 'HEAD' ? undefined : text);
}

/** A 4xx status on a foreign error (body parsers, http-errors); 5xx ones are not trusted to say why. */
function clientStatusOf(err: unknown): number | undefined {
  const status =
    (err as { status?: unknown; statusCode?: unknown })?.status ??
    (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
