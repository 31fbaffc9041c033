/**
 * The readiness gate on its own file: stowage/express can re-export it as
 * ready() without loading the loader, and nothing here imports express.
 */

/** What the gate needs from an artifacts() handle. */
export interface ReadinessSource {
  isReady(): boolean;
  status(): object;
}

export interface ReadinessOptions {
  /** Seconds a client should wait before retrying (default 5). */
  retryAfter?: number;
}

/** The minimal request/response shape used, so express is never imported at runtime. */
export interface ReadinessResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
  headersSent?: boolean;
}
export type ReadinessMiddleware = (
  req: unknown,
  res: ReadinessResponse,
  next: (err?: unknown) => void,
) => void;

/** The body's headline per state; a final failure's own message (status().error) replaces it. */
const HEADLINE: Record<string, string> = {
  retrying: 'loading artifacts failed; retrying',
  failed: 'loading artifacts failed',
};

/**
 * Readiness gate for Express (4 or 5) or plain node:http handlers: answers
 * 503 with Retry-After and the JSON status (state, attempt, nextRetryAt,
 * lastError, files) until the handle is ready, then passes every request
 * through. While a failed load is retried it says so; after a final
 * failure it keeps answering 503.
 */
export function readiness(handle: ReadinessSource, options: ReadinessOptions = {}): ReadinessMiddleware {
  const retryAfter = Math.max(1, Math.round(options.retryAfter ?? 5));
  return (_req, res, next) => {
    if (handle.isReady()) {
      next();
      return;
    }
    const status = handle.status() as { state?: unknown };
    const headline = HEADLINE[String(status.state)] ?? 'artifacts are still loading';
    const body = JSON.stringify({ error: headline, ...status });
    res.statusCode = 503;
    res.setHeader('Retry-After', retryAfter);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  };
}
