import http from 'node:http';
import https from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { isStowageError, StowageError } from '../core/errors.js';
import {
  isStrongEtag,
  ObjectChangedError,
  RangeIgnoredError,
  type Remote,
  type RemoteBody,
  type RemoteMeta,
} from './remote.js';

/** Query parameters that sign a URL rather than name the object (S3, GCS, Azure, CloudFront). */
export const SIGNING_PARAM =
  /^(x-amz-.*|x-goog-.*|signature|expires|awsaccesskeyid|sig|se|st|sp|sv|sr|spr|skoid|sktid|skt|ske|sks|skv|token|key-pair-id|policy)$/i;

export interface HttpRemoteOptions {
  headers?: Record<string, string>;
  /** Milliseconds without a byte before a request is abandoned and retried. */
  stallTimeout: number;
  /** Where the URL is known to redirect (a hub's HEAD said so): asked first, the URL again if it stops answering. */
  redirectedTo?: string;
}

/**
 * An object behind a public or presigned http(s) URL, read with node:http
 * (no extra dependency). Every ranged read carries If-Match (strong ETag)
 * or If-Unmodified-Since, and every response is checked against the pinned
 * version, so a replaced object is never mixed into one file.
 */
export class HttpRemote implements Remote {
  readonly label: string;
  readonly identity: string;
  private readonly url: URL;
  /** Where the last redirect chain ended (a CDN, say): asked directly until it stops answering. */
  private target: URL;

  constructor(
    url: string,
    private readonly options: HttpRemoteOptions,
  ) {
    this.url = new URL(url);
    this.target = options.redirectedTo ? new URL(options.redirectedTo, this.url) : this.url;
    this.label = `${this.url.origin}${this.url.pathname}`;
    const kept = new URLSearchParams();
    for (const [k, v] of this.url.searchParams) if (!SIGNING_PARAM.test(k)) kept.append(k, v);
    const query = kept.toString();
    this.identity = `http:${this.label}${query ? `?${query}` : ''}`;
  }

  async probe(signal?: AbortSignal): Promise<RemoteMeta> {
    const res = await this.request({ Range: 'bytes=0-0' }, signal).catch((err) => {
      // An empty object has no byte 0: servers answer 416; ask again without a range.
      if (isStowageError(err, 'INVALID_RANGE')) return this.request({}, signal);
      throw err;
    });
    res.resume();
    res.destroy();
    const meta = this.metaOf(res);
    if (res.statusCode === 206) {
      const total = parseContentRange(res.headers['content-range'])?.total;
      if (total === undefined) throw this.protocolError('206 without a usable Content-Range');
      return { ...meta, size: total, acceptsRanges: true };
    }
    const length = Number(res.headers['content-length']);
    if (!Number.isSafeInteger(length)) {
      throw new StowageError(
        'NOT_SUPPORTED',
        `${this.label}: the server sends neither ranges nor a Content-Length`,
      );
    }
    return { ...meta, size: length, acceptsRanges: false };
  }

  async open(
    range: { start: number; end: number } | undefined,
    pin: RemoteMeta,
    signal?: AbortSignal,
  ): Promise<RemoteBody> {
    const headers: Record<string, string> = {};
    if (range) headers.Range = `bytes=${range.start}-${range.end}`;
    if (isStrongEtag(pin.etag)) headers['If-Match'] = pin.etag;
    else if (pin.lastModified) headers['If-Unmodified-Since'] = pin.lastModified;
    const res = await this.request(headers, signal);
    const meta = this.metaOf(res);
    const changed = describeChange(pin, meta);
    if (changed) {
      res.destroy();
      throw new ObjectChangedError(this.label, changed);
    }
    if (range && res.statusCode === 200) {
      res.destroy();
      throw new RangeIgnoredError(this.label);
    }
    if (res.statusCode === 206) {
      const served = parseContentRange(res.headers['content-range']);
      if (!served || !range || served.start !== range.start || served.end !== range.end) {
        res.destroy();
        throw this.protocolError('a Content-Range other than the one asked for');
      }
      if (served.total !== undefined && served.total !== pin.size) {
        res.destroy();
        throw new ObjectChangedError(this.label, `size ${pin.size} became ${served.total}`);
      }
      return { body: this.bodyOf(res, signal), range: { start: served.start, end: served.end } };
    }
    return { body: this.bodyOf(res, signal) };
  }

  /**
   * The response body, failing with a StowageError like the request does:
   * a connection dropped mid-body otherwise surfaces as Node's bare
   * Error('aborted'). Destroying the body destroys the response.
   */
  private bodyOf(res: http.IncomingMessage, signal: AbortSignal | undefined): Readable {
    const body = new PassThrough();
    res.on('error', (err) =>
      body.destroy(this.connectionError(err, signal, 'the connection dropped mid-body')),
    );
    body.on('close', () => res.destroy());
    return res.pipe(body);
  }

  /** A failed connection, as a StowageError: retryable, unless the caller aborted. */
  private connectionError(err: unknown, signal: AbortSignal | undefined, what: string): StowageError {
    if (isStowageError(err)) return err;
    if (signal?.aborted) {
      return new StowageError('ABORTED', `${this.label}: download aborted`, { cause: signal.reason });
    }
    const code = (err as NodeJS.ErrnoException).code;
    return new StowageError(
      'UNAVAILABLE',
      `${this.label}: ${what} (${(err as Error).message}${code ? `, ${code}` : ''})`,
      {
        cause: err,
        retryable: true,
      },
    );
  }

  private metaOf(res: http.IncomingMessage): RemoteMeta {
    const meta: RemoteMeta = { size: 0, acceptsRanges: false };
    const etag = res.headers.etag;
    if (typeof etag === 'string' && etag) meta.etag = etag;
    const lastModified = res.headers['last-modified'];
    if (typeof lastModified === 'string' && lastModified) meta.lastModified = lastModified;
    return meta;
  }

  private protocolError(what: string): StowageError {
    return new StowageError('UNAVAILABLE', `${this.label}: the server sent ${what}`, { retryable: true });
  }

  /**
   * One GET; resolves with a 200/206 response, throws a mapped StowageError
   * otherwise. Redirects are followed (model hubs and release pages answer
   * with one to a CDN) and the final URL is asked directly next time; if it
   * stops answering (an expired signed redirect), the original URL is asked
   * again. Location values are never logged: they often carry signatures.
   */
  private async request(extra: Record<string, string>, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const pinned = this.target !== this.url;
    try {
      return await this.follow(this.target, extra, signal);
    } catch (err) {
      if (!pinned || !isStowageError(err) || !['ACCESS_DENIED', 'NOT_FOUND'].includes(err.code)) throw err;
      this.target = this.url;
      return this.follow(this.url, extra, signal);
    }
  }

  private async follow(
    start: URL,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    let url = start;
    for (let hops = 0; ; hops++) {
      const { res, location } = await this.get(url, extra, signal);
      if (res) {
        this.target = url;
        return res;
      }
      if (hops >= MAX_REDIRECTS) {
        throw new StowageError('UNAVAILABLE', `${this.label}: more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(location as string, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new StowageError('NOT_SUPPORTED', `${this.label}: redirected to a ${next.protocol} URL`);
      }
      if (url.protocol === 'https:' && next.protocol === 'http:') {
        throw new StowageError('ACCESS_DENIED', `${this.label}: refused a redirect from https to plain http`);
      }
      url = next;
    }
  }

  /** One request to `url`: a 200/206 response, or the Location of a redirect. */
  private get(
    url: URL,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ res?: http.IncomingMessage; location?: string }> {
    const client = url.protocol === 'https:' ? https : http;
    // The caller's headers (credentials, say) go to the URL they gave, not to another host it redirects to.
    const own = url.origin === this.url.origin ? this.options.headers : undefined;
    return new Promise((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: 'GET',
          headers: { ...own, ...extra, 'Accept-Encoding': 'identity' },
          signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status === 200 || status === 206) {
            res.setTimeout(this.options.stallTimeout, () => res.destroy(this.stalled()));
            resolve({ res });
            return;
          }
          res.resume();
          const location = res.headers.location;
          if (REDIRECTS.has(status) && location) resolve({ location });
          else reject(this.statusError(status, res.headers['retry-after']));
        },
      );
      req.setTimeout(this.options.stallTimeout, () => req.destroy(this.stalled()));
      req.on('error', (err) => reject(this.connectionError(err, signal, 'the request failed')));
      req.end();
    });
  }

  private stalled(): StowageError {
    return new StowageError('UNAVAILABLE', `${this.label}: no data for ${this.options.stallTimeout} ms`, {
      retryable: true,
    });
  }

  private statusError(status: number, retryAfter: string | string[] | undefined): StowageError {
    const where = `${this.label} answered HTTP ${status}`;
    if (status === 412) return new ObjectChangedError(this.label, 'precondition failed');
    if (status === 404 || status === 410) return new StowageError('NOT_FOUND', `${where}: no such object`);
    if (status === 401 || status === 403) {
      return new StowageError('ACCESS_DENIED', `${where}: check the URL's credentials or expiry`);
    }
    if (status === 416) return new StowageError('INVALID_RANGE', where);
    const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    const retryable = status === 408 || status === 429 || status >= 500;
    return new StowageError(retryable ? 'UNAVAILABLE' : 'INTERNAL', where, {
      retryable,
      retryAfter: Number.isFinite(seconds) ? seconds : undefined,
    });
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** What changed between the pinned version and a response, or undefined when it is the same version. */
function describeChange(pin: RemoteMeta, got: RemoteMeta): string | undefined {
  if (pin.etag && got.etag && pin.etag !== got.etag) return `ETag ${pin.etag} became ${got.etag}`;
  if (pin.lastModified && got.lastModified && pin.lastModified !== got.lastModified) {
    return `Last-Modified ${pin.lastModified} became ${got.lastModified}`;
  }
  return undefined;
}

export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
