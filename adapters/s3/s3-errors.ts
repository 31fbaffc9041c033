import { type ErrorCode, isAbortError, isStowageError, StowageError } from '../../src/core/errors.js';

/** The parts of an AWS SDK v3 service or network error we look at. */
interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Where stowage and the SDK read S3 credentials from: said whenever they are missing or refused. */
export const S3_CREDENTIALS_HINT =
  "credentials are read from the URL's user:password (s3://ACCESS_KEY_ID:SECRET_ACCESS_KEY@bucket), " +
  'from STOWAGE_URL naming the same bucket and endpoint, from the Bucketeer or Cloudcube add-on variables, ' +
  'or from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (else the AWS profile or instance role)';

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchUpload']);
const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AllAccessDisabled',
  'AccountProblem',
  'RequestTimeTooSkewed',
]);
const UNAVAILABLE = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'OperationAborted',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/**
 * Maps an AWS SDK error to a StowageError with a stable code. `doing` reads
 * like "reading" or "copying to", `key` is the user's key (never the secret
 * or a signed URL: the cause is scrubbed by StowageError).
 */
export function mapS3Error(err: unknown, doing: string, key?: string, signal?: AbortSignal): StowageError {
  if (isStowageError(err)) return err;
  const where = key === undefined ? '' : ` "${key}"`;
  if (signal?.aborted || isAbortError(err)) {
    return new StowageError('ABORTED', `${doing}${where} was aborted`, { cause: err, key });
  }
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? e.Code ?? '';
  const code = e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const detail = `${name || code || 'error'}${status ? ` ${status}` : ''}`;
  const make = (c: ErrorCode, text: string, extra: { retryAfter?: number } = {}) =>
    new StowageError(c, `${doing}${where} failed: ${text} (${detail})`, {
      cause: err,
      key,
      ...extra,
    });

  if (NOT_FOUND.has(name) || status === 404) {
    return name === 'NoSuchBucket'
      ? make('NOT_FOUND', 'the bucket does not exist; check the bucket name and region')
      : make('NOT_FOUND', 'no such object');
  }
  if (name === 'InvalidRange' || status === 416) return make('INVALID_RANGE', 'the range is not satisfiable');
  // Raised by the SDK before any request when no provider of its chain has credentials.
  if (name === 'CredentialsProviderError') {
    return make('ACCESS_DENIED', `no credentials found; ${S3_CREDENTIALS_HINT}`);
  }
  if (DENIED.has(name) || status === 403 || status === 401) {
    return make(
      'ACCESS_DENIED',
      `access denied; check the credentials and the bucket policy: ${S3_CREDENTIALS_HINT}`,
    );
  }
  if (name === 'EntityTooLarge') return make('TOO_LARGE', 'the object is larger than the store accepts');
  if (name === 'BadDigest' || name === 'InvalidDigest' || name === 'XAmzContentSHA256Mismatch') {
    return make('CHECKSUM_MISMATCH', 'the store rejected the content checksum');
  }
  if (
    UNAVAILABLE.has(name) ||
    NETWORK.has(code) ||
    NETWORK.has(name) ||
    (status !== undefined && status >= 500)
  ) {
    const retryAfter = Number(e.$response?.headers?.['retry-after']);
    return make(
      'UNAVAILABLE',
      'the store is unavailable or throttling; try again later',
      Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {},
    );
  }
  if (status === 429) return make('UNAVAILABLE', 'too many requests; try again later');
  if (name === 'NotImplemented' || status === 501) {
    return make('NOT_SUPPORTED', 'the store does not implement this operation');
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return make('INVALID_ARGUMENT', 'the store refused the request');
  }
  return make('INTERNAL', (e.message ?? String(err)).slice(0, 200));
}
