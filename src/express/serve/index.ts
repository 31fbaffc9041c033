import type { ServerResponse } from 'node:http';
import { invalidArg } from '../../core/args.js';
import { isStowageError, StowageError } from '../../core/errors.js';
import type { Storage } from '../../core/types.js';
import { sendJson } from '../json-response.js';
import { ObjectCache } from './cache/object-cache.js';
import { downloadParam, keyFromRequest, type ServeRequest } from './key-from-request.js';
import { type ResolvedServeOptions, resolveServeOptions, type ServeOptions } from './options.js';
import { UrlCache } from './redirect.js';
import { respondError } from './respond-error.js';
import { type SendContext, sendObject } from './send-object.js';

export type { ActiveContentPolicy } from './headers.js';
export { isActiveContent, SANDBOX_CSP } from './headers.js';
export type { ServeRequest } from './key-from-request.js';
export type { ServeOptions } from './options.js';

/** A plain (req, res, next) middleware: works with Express 4, Express 5 and node:http. */
export interface ServeHandler {
  (req: ServeRequest, res: ServerResponse, next: (err?: unknown) => void): void;
  /** The read-through cache (stats(), invalidate(key)). */
  readonly cache: ObjectCache;
  /** Options after defaults, for diagnostics. */
  readonly options: Readonly<ResolvedServeOptions>;
  /** Drops the memory tier and deletes the disk tier's files. */
  close(): Promise<void>;
}

/**
 * Serves stored objects under a mount path: `app.use('/files', serve(storage))`.
 * GET and HEAD with ETag/Last-Modified (304), Range (206/416, If-Range),
 * memory and disk cache tiers with single-flight misses, and optionally
 * 302 redirects to signed or CDN URLs instead of streaming.
 */
export function serve(storage: Storage, options?: ServeOptions): ServeHandler {
  if (
    storage === null ||
    typeof storage !== 'object' ||
    typeof storage.get !== 'function' ||
    typeof storage.head !== 'function' ||
    typeof storage.url !== 'function'
  ) {
    throw invalidArg('serve() needs a Storage as its first argument, e.g. serve(createStorage())');
  }
  const resolved = resolveServeOptions(options, storage.capabilities?.signedUrls === true);
  const cache = new ObjectCache(storage, {
    memory: resolved.memory,
    disk: resolved.disk,
    revalidateAfterMs: resolved.revalidateAfterMs,
  });
  const urls = resolved.redirect
    ? new UrlCache(storage, resolved.redirect.expiresIn, resolved.revalidateAfterMs)
    : undefined;
  const ctx: SendContext = {
    storage,
    cache,
    headers: { cacheControl: resolved.cacheControl, activeContent: resolved.activeContent },
  };

  const handle = async (req: ServeRequest, res: ServerResponse, next: (err?: unknown) => void) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      if (resolved.otherMethods === 'next') return next();
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(
        res,
        405,
        { error: { code: 'NOT_SUPPORTED', message: `${method} is not allowed here; use GET or HEAD` } },
        method,
      );
    }
    const key = keyFromRequest(req);
    if (key === undefined) {
      if (resolved.fallthrough) return next();
      throw new StowageError('NOT_FOUND', 'no object at the mount root; request a key below it');
    }
    if (resolved.hiddenPrefixes.some((prefix) => key === prefix || key.startsWith(`${prefix}/`))) {
      if (resolved.fallthrough) return next();
      throw new StowageError('NOT_FOUND', 'no object at this key');
    }
    const download = downloadParam(req);
    if (urls) {
      const url = await urls.get(key, download);
      res.statusCode = 302;
      res.setHeader('Location', url);
      // The URL may be signed: neither the browser nor a shared cache should keep the redirect.
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('Content-Length', '0');
      res.end();
      return;
    }
    await sendObject(ctx, req, res, key, download);
  };

  const handler = ((req: ServeRequest, res: ServerResponse, next: (err?: unknown) => void) => {
    handle(req, res, next).catch((err: unknown) => {
      if (resolved.fallthrough && isStowageError(err, 'NOT_FOUND') && !res.headersSent) {
        next();
        return;
      }
      respondError(res, err, req.method);
    });
  }) as ServeHandler;
  Object.defineProperties(handler, {
    cache: { value: cache, enumerable: true },
    options: { value: Object.freeze({ ...resolved }), enumerable: true },
    close: { value: () => cache.close(), enumerable: true },
  });
  return handler;
}
