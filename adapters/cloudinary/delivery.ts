import { addAbortSignal, type Readable, Transform, type TransformCallback } from 'node:stream';
import { StowageError } from '../../src/core/errors.js';
import type { CloudinaryClient } from './client.js';

/**
 * GETs a delivery URL (with Range when asked) and returns the body stream.
 * Rate limits and server errors are retried by the client before any byte
 * is handed out; a CDN that ignores Range is sliced here.
 */
export async function fetchDelivery(
  client: CloudinaryClient,
  url: string,
  key: string,
  range: { start: number; end: number } | undefined,
  signal: AbortSignal | undefined,
): Promise<Readable> {
  const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
  const res = await client.call(
    'get',
    key,
    async (tracker) => {
      const response = await client.fetch(url, headers, signal);
      tracker.headers = response.headers;
      const status = response.statusCode ?? 0;
      if (status === 200 || status === 206) return response;
      response.resume();
      throw { message: `delivery answered HTTP ${status}`, http_code: status };
    },
    { signal },
  );
  let body: Readable = res;
  if (range && res.statusCode === 200) body = res.pipe(slice(range.start, range.end));
  if (range && res.statusCode === 206 && !matchesRange(res.headers['content-range'], range)) {
    res.destroy();
    throw new StowageError('UNAVAILABLE', `delivery of "${key}" answered the wrong byte range`, { key });
  }
  if (signal) addAbortSignal(signal, body);
  return body;
}

function matchesRange(header: string | undefined, range: { start: number; end: number }): boolean {
  const m = /^bytes (\d+)-(\d+)\//.exec(header ?? '');
  return !!m && Number(m[1]) === range.start && Number(m[2]) === range.end;
}

/** Keeps bytes start..end (inclusive) of a full body. */
function slice(start: number, end: number): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const from = Math.max(start - offset, 0);
      const to = Math.min(end + 1 - offset, chunk.length);
      offset += chunk.length;
      done(null, to > from ? chunk.subarray(from, to) : undefined);
    },
  });
}
