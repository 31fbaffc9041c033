import type { ServerResponse } from 'node:http';
import { isStowageError } from '../../errors.js';
import { log } from '../../log.js';

const OBJECT_HEADERS = [
  'Content-Type',
  'Content-Length',
  'Content-Range',
  'Content-Disposition',
  'Content-Security-Policy',
  'ETag',
  'Last-Modified',
  'Cache-Control',
  'Accept-Ranges',
];

/** Seconds a client is told to wait after a 503 when the error does not say. */
const DEFAULT_RETRY_AFTER = 5;

/**
 * `{ error: { code, message } }` with the error's status. StowageError
 * messages are redacted at construction and carry no stack; anything else
 * becomes a generic 500 so no internal detail reaches the client.
 */
export function respondError(res: ServerResponse, err: unknown, method: string | undefined): void {
  if (res.headersSent) {
    // Mid-body failure: the only honest signal left is a cut connection.
    res.destroy();
    return;
  }
  const known = isStowageError(err) ? err : undefined;
  const status = known?.status ?? 500;
  const body = known
    ? { error: { code: known.code, message: known.message } }
    : { error: { code: 'INTERNAL', message: 'internal error' } };
  if (status >= 500) {
    log.warn(`serve: ${known ? `${known.code} ${known.message}` : String((err as Error)?.message ?? err)}`);
  }
  // Drop only what serve() set for the object; headers from earlier middleware (CORS…) stay.
  for (const name of OBJECT_HEADERS) res.removeHeader(name);
  if (known?.code === 'UNAVAILABLE' || status === 503) {
    res.setHeader('Retry-After', String(known?.retryAfter ?? DEFAULT_RETRY_AFTER));
  }
  sendJson(res, status, body, method);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  method: string | undefined,
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.end(method === 'HEAD' ? undefined : text);
}
