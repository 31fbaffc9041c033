import { checkInteger } from '../adapter-kit/integer-option.js';
/**
 * The readiness gate on its own file: stowage/express can re-export it as
 * ready() without loading the loader, and nothing here imports express.
 */
import { checkOptionsObject, invalidArg } from '../core/args.js';
import { type Closable, HeldRequests } from './hold.js';

/** What the gate needs from an artifacts() handle. */
export interface ReadinessSource {
  isReady(): boolean;
  status(): object;
  /** Settles when the load does (resolves when ready, rejects on a final failure); needed to hold requests. */
  ready?: PromiseLike<unknown>;
}

export interface ReadinessOptions {
  /** Seconds a client should wait before retrying (default 5). */
  retryAfter?: number;
  /**
   * Milliseconds a request is held while loading before it gets 503 (default
   * 25000; 0 = answer 503 at once). A held request goes on the moment the
   * artifacts are ready and gets the failure at once if the load fails.
   * Must stay below 30000 (Heroku's router gives up at 30 s with H12) unless
   * allowLongHold is set.
   */
  hold?: number;
  /** Allow hold >= 30000 ms, for a platform whose proxy waits longer than Heroku's 30 s. */
  allowLongHold?: boolean;
  /** Requests held at once (default 1000); beyond it a request gets 503 at once. */
  maxHeld?: number;
  /**
   * A path (e.g. '/healthz', compared with the request's path below the mount
   * point) answered by the gate itself, never held: 200 + JSON status when
   * ready, 503 + JSON status otherwise. For platform health checks (Render, Railway).
   */
  healthPath?: string;
}

/** The minimal request/response shape used, so express is never imported at runtime. */
export interface ReadinessRequest {
  url?: string;
}
export interface ReadinessResponse extends Closable {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
  headersSent?: boolean;
}
export type ReadinessMiddleware = ((
  req: ReadinessRequest,
  res: ReadinessResponse,
  next: (err?: unknown) => void,
) => void) & {
  /** Requests held right now (for diagnostics; also in the health path's JSON as `held`). */
  readonly held: number;
};

/** Heroku's router drops a request that has no response after 30 s (H12). */
const ROUTER_TIMEOUT_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The body's headline per state; a final failure's own message (status().error) replaces it. */
const HEADLINE: Record<string, string> = {
  retrying: 'loading artifacts failed; retrying',
  failed: 'loading artifacts failed',
};

/**
 * Readiness gate for Express (4 or 5) or plain node:http handlers. While
 * loading, a request is held (up to `hold` ms, at most `maxHeld` at once)
 * and goes on the moment the handle is ready; past the bound, beyond
 * maxHeld, or after a final failure it gets 503 with Retry-After and the
 * JSON status (state, attempt, nextRetryAt, lastError, files).
 */
export function readiness(handle: ReadinessSource, options: ReadinessOptions = {}): ReadinessMiddleware {
  const { retryAfter, holdMs, maxHeld, healthPath } = resolveOptions(options);
  if (holdMs > 0 && typeof handle.ready?.then !== 'function') {
    throw invalidArg(
      'readiness(): holding requests needs the source\'s "ready" promise (an artifacts() handle has one); pass { hold: 0 } to answer 503 at once',
    );
  }
  const held = new HeldRequests(holdMs, maxHeld);
  let settled = false;
  const settle = () => {
    settled = true;
    held.releaseAll();
  };
  handle.ready?.then(settle, settle);

  const answer = (res: ReadinessResponse, status: number, body: object) => {
    res.statusCode = status;
    if (status === 503) res.setHeader('Retry-After', retryAfter);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(body));
  };
  const notReady = (res: ReadinessResponse, extra: object = {}) => {
    const status = handle.status() as { state?: unknown };
    const headline = HEADLINE[String(status.state)] ?? 'artifacts are still loading';
    answer(res, 503, { error: headline, ...status, ...extra });
  };
  const gate = (req: ReadinessRequest, res: ReadinessResponse, next: (err?: unknown) => void) => {
    if (healthPath !== undefined && pathOf(req.url) === healthPath) {
      if (handle.isReady()) answer(res, 200, { ...handle.status(), held: held.size });
      else notReady(res, { held: held.size });
      return;
    }
    if (handle.isReady()) {
      next();
      return;
    }
    // Once the load has settled and this is not ready, it failed: answer at once.
    const go = () => (handle.isReady() ? next() : notReady(res));
    if (settled || holdMs === 0 || !held.hold(res, go, () => notReady(res))) notReady(res);
  };
  Object.defineProperty(gate, 'held', { get: () => held.size, enumerable: true });
  return gate as ReadinessMiddleware;
}

function resolveOptions(options: ReadinessOptions) {
  checkOptionsObject(options, 'readiness options');
  const o = options ?? {};
  const holdMs = checkInteger(o.hold, 'options.hold') ?? 25_000;
  if (holdMs > MAX_TIMER_MS)
    throw invalidArg(`options.hold must be at most ${MAX_TIMER_MS} ms, got ${holdMs}`);
  if (holdMs >= ROUTER_TIMEOUT_MS && o.allowLongHold !== true) {
    throw invalidArg(
      `options.hold must be below ${ROUTER_TIMEOUT_MS} ms, got ${holdMs}: Heroku's router drops a request after 30 s (H12), so the client would never see the 503; pass allowLongHold: true on a platform that waits longer`,
    );
  }
  const maxHeld = checkInteger(o.maxHeld, 'options.maxHeld') ?? 1000;
  if (o.healthPath !== undefined && (typeof o.healthPath !== 'string' || !o.healthPath.startsWith('/'))) {
    throw invalidArg(
      `options.healthPath must be a path starting with "/", got ${JSON.stringify(o.healthPath)}`,
    );
  }
  return {
    retryAfter: Math.max(1, Math.round(o.retryAfter ?? 5)),
    holdMs,
    maxHeld,
    healthPath: o.healthPath,
  };
}

/** The request's path without its query string. */
function pathOf(url: string | undefined): string {
  const path = url ?? '/';
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}
