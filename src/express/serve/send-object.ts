import type { ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { StowageError } from '../../core/errors.js';
import type { Storage } from '../../core/types.js';
import { sendJson } from '../json-response.js';
import { type CachedObject, type ObjectCache, sameVersion } from './cache/object-cache.js';
import { evaluatePreconditions, isRangeFresh } from './conditional.js';
import { etagOf, type HeaderOptions, setObjectHeaders, setValidators } from './headers.js';
import type { ServeRequest } from './key-from-request.js';
import { decideRange } from './range.js';

export interface SendContext {
  storage: Storage;
  cache: ObjectCache;
  headers: HeaderOptions;
}

/**
 * Answers GET or HEAD for one key: conditionals (412/304), then Range
 * (206/416, If-Range), then the bytes from whichever tier holds them.
 */
export async function sendObject(
  ctx: SendContext,
  req: ServeRequest,
  res: ServerResponse,
  key: string,
  download: string | true | undefined,
  retried = false,
): Promise<void> {
  const isHead = req.method === 'HEAD';
  const object = isHead ? await ctx.cache.info(key) : await ctx.cache.lookup(key);
  const { info } = object;
  const etag = etagOf(info);

  const precondition = evaluatePreconditions(req.headers, etag, info.lastModified);
  if (precondition === 'precondition-failed') {
    sendJson(
      res,
      412,
      {
        error: {
          code: 'PRECONDITION_FAILED',
          message: `"${key}" does not match the request's preconditions`,
        },
      },
      req.method,
    );
    return;
  }
  if (precondition === 'not-modified') {
    setValidators(res, etag, info.lastModified, ctx.headers.cacheControl);
    res.statusCode = 304;
    res.end();
    return;
  }

  // Range applies to GET only (RFC 9110 §14.2); HEAD describes the whole object.
  let range = isHead ? ({ kind: 'full' } as const) : decideRange(req.headers.range, info.size);
  if (range.kind !== 'full' && !isRangeFresh(header(req.headers['if-range']), etag, info.lastModified)) {
    range = { kind: 'full' };
  }
  if (range.kind === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${info.size}`);
    res.setHeader('Accept-Ranges', 'bytes');
    sendJson(
      res,
      416,
      {
        error: {
          code: 'INVALID_RANGE',
          message: `the requested range is outside the ${info.size} bytes of "${key}"`,
        },
      },
      req.method,
    );
    return;
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : info.size - 1;

  const body = isHead ? undefined : await openBody(ctx, object, key, start, end, range.kind === 'partial');
  if (body === 'changed') {
    // The origin holds a newer version than the one we described: start over once with it.
    if (retried) {
      throw new StowageError('UNAVAILABLE', `"${key}" changed while it was being read; try again`, {
        key,
        retryable: true,
        retryAfter: 1,
      });
    }
    ctx.cache.invalidate(key);
    return sendObject(ctx, req, res, key, download, true);
  }

  setObjectHeaders(res, key, info, etag, ctx.headers, download);
  res.statusCode = range.kind === 'partial' ? 206 : 200;
  if (range.kind === 'partial') res.setHeader('Content-Range', `bytes ${start}-${end}/${info.size}`);
  res.setHeader('Content-Length', String(Math.max(0, end - start + 1)));

  if (body === undefined) {
    res.end();
  } else if (Buffer.isBuffer(body)) {
    res.end(body);
  } else {
    await streamTo(body, res);
  }
}

/** The bytes start..end (inclusive) from the object's tier, falling back to the origin. */
async function openBody(
  ctx: SendContext,
  object: CachedObject,
  key: string,
  start: number,
  end: number,
  partial: boolean,
): Promise<Buffer | Readable | undefined | 'changed'> {
  if (end < start) return undefined; // Empty object.
  if (object.tier === 'memory') return object.data.subarray(start, end + 1);
  if (object.tier === 'disk') {
    const handle = await ctx.cache.disk?.open(object.entry);
    // The stream owns the handle: it closes it at end, error or destroy.
    if (handle) return handle.createReadStream({ start, end });
  }
  const got = await ctx.storage.get(key, partial ? { range: { start, end } } : {});
  if (!sameVersion(object.info, got.info)) {
    got.body.destroy();
    return 'changed';
  }
  if (partial && got.range && (got.range.start !== start || got.range.end !== end)) {
    got.body.destroy();
    throw new StowageError(
      'INTERNAL',
      `the adapter returned bytes ${got.range.start}-${got.range.end} of "${key}" for ${start}-${end}`,
      { key },
    );
  }
  // An adapter that cannot read ranges sends the whole object: cut the asked bytes out of it.
  if (partial && !got.range) return Readable.from(sliceOf(got.body, start, end), { objectMode: false });
  return got.body;
}

/** Bytes start..end (inclusive) of a stream; stops reading (and destroys it) past the end. */
async function* sliceOf(body: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  for await (const chunk of body) {
    const from = Math.max(0, start - pos);
    const to = Math.min(chunk.length, end + 1 - pos);
    if (to > from) yield chunk.subarray(from, to);
    pos += chunk.length;
    if (pos > end) return;
  }
}

/** Pipes and, whatever happens (client gone, origin failure), destroys the source. */
function streamTo(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    pipeline(body, res, (err) => {
      if (err) body.destroy();
      resolve();
    });
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
