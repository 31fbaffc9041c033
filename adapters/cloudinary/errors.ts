import type { IncomingHttpHeaders } from 'node:http';
import { isStowageError, StowageError } from '../../src/core/errors.js';
import { redact } from '../../src/util/redact.js';

/**
 * Maps what the SDK rejects with (plain `{ message, http_code }` objects,
 * Admin API wrappers carrying request options with credentials, or Node
 * errors) to a StowageError. The SDK object is never kept as the cause: it
 * may hold the api_secret in `request_options.auth`.
 */
export function mapSdkError(
  raw: unknown,
  what: string,
  key: string | undefined,
  headers: IncomingHttpHeaders | undefined,
): StowageError {
  if (isStowageError(raw)) return raw;
  const { message, status } = describe(raw);
  const text = `cloudinary ${what}${key !== undefined ? ` of "${key}"` : ''} failed: ${message}`;
  const cause = new Error(redact(message));
  const base = { cause, key, status: undefined as number | undefined };
  if (status === 404) return new StowageError('NOT_FOUND', `no object at key "${key ?? ''}"`, { cause, key });
  if (status === 401 || status === 403) {
    return new StowageError(
      'ACCESS_DENIED',
      `${text} (check the api key and secret: they are read from the URL's api_key:api_secret, or from STOWAGE_URL or CLOUDINARY_URL naming the same cloud)`,
      base,
    );
  }
  if (status === 420 || status === 429) {
    const retryAfter = retryAfterOf(headers);
    return new StowageError('UNAVAILABLE', `${text} (rate limited)`, {
      ...base,
      retryable: true,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  if (status === 400 && /invalid image|not allowed|unsupported|invalid video/i.test(message)) {
    return new StowageError('UNSUPPORTED_TYPE', text, base);
  }
  if (status === 400 && /too large|file size/i.test(message))
    return new StowageError('TOO_LARGE', text, base);
  if (status === 400) return new StowageError('INVALID_ARGUMENT', text, base);
  if (status === undefined || status >= 500 || status === 499) {
    const retryAfter = retryAfterOf(headers);
    return new StowageError('UNAVAILABLE', text, {
      ...base,
      retryable: true,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  return new StowageError('INTERNAL', text, base);
}

function describe(raw: unknown): { message: string; status: number | undefined } {
  if (raw instanceof Error) {
    const status = (raw as { http_code?: number }).http_code;
    return { message: raw.message, status };
  }
  if (raw && typeof raw === 'object') {
    const outer = raw as { error?: unknown; message?: unknown; http_code?: unknown };
    const inner = (outer.error && typeof outer.error === 'object' ? outer.error : outer) as {
      message?: unknown;
      http_code?: unknown;
    };
    const message =
      typeof inner.message === 'string'
        ? inner.message
        : inner.message instanceof Error
          ? inner.message.message
          : 'unknown error';
    const status = typeof inner.http_code === 'number' ? inner.http_code : undefined;
    return { message, status };
  }
  return { message: String(raw), status: undefined };
}

/** Seconds to wait, from Retry-After (seconds or a date) or Cloudinary's X-FeatureRateLimit-Reset. */
export function retryAfterOf(headers: IncomingHttpHeaders | undefined): number | undefined {
  const value = headers?.['retry-after'];
  if (typeof value === 'string' && value.trim() !== '') {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds;
    const date = Date.parse(value);
    if (Number.isFinite(date)) return Math.max(0, (date - Date.now()) / 1000);
  }
  const reset = headers?.['x-featureratelimit-reset'];
  if (typeof reset === 'string') {
    const date = Date.parse(reset);
    if (Number.isFinite(date)) return Math.max(0, (date - Date.now()) / 1000);
  }
  return undefined;
}
