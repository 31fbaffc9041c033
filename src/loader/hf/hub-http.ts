import http from 'node:http';
import https from 'node:https';
import { isStowageError, StowageError } from '../../core/errors.js';
import type { HfSettings } from './settings.js';
import { type HfRef, repoPage } from './url.js';

export interface HubResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered (after same-host redirects). */
  url: URL;
}

export interface HubRequest {
  method: 'GET' | 'HEAD' | 'POST';
  body?: string;
  signal?: AbortSignal | undefined;
  /** Milliseconds without a byte before the request is abandoned (retryable). */
  timeout: number;
}

const MAX_REDIRECTS = 5;
/** API answers are small JSON; anything bigger is not a hub. */
const MAX_BODY = 64 * 1024 * 1024;

/**
 * One request to the hub. The token goes to the hub's own origin only:
 * redirects to the same origin (a renamed repo) are followed, one to
 * another host (the CDN) is returned as it is, with the file's metadata
 * on it, as the official clients read it.
 */
export async function hubRequest(url: string, settings: HfSettings, init: HubRequest): Promise<HubResponse> {
  const origin = new URL(settings.endpoint).origin;
  let target = new URL(url);
  for (let hops = 0; ; hops++) {
    const res = await once(target, origin, settings, init);
    const location = res.headers.location;
    if (res.status < 300 || res.status >= 400 || !location) return res;
    const next = new URL(location, target);
    if (next.origin !== origin || hops >= MAX_REDIRECTS) return res;
    target = next;
  }
}

function once(url: URL, origin: string, settings: HfSettings, init: HubRequest): Promise<HubResponse> {
  const client = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity', Accept: 'application/json, */*' };
  if (settings.token && url.origin === origin) headers.Authorization = `Bearer ${settings.token}`;
  if (init.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(init.body));
  }
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: init.method, headers, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) res.destroy(new Error('answer too large'));
        else chunks.push(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }),
      );
      res.on('error', (err) => reject(connectionError(err, url, init.signal)));
    });
    req.setTimeout(init.timeout, () =>
      req.destroy(
        new StowageError('UNAVAILABLE', `${url.origin}: no answer for ${init.timeout} ms`, {
          retryable: true,
        }),
      ),
    );
    req.on('error', (err) => reject(connectionError(err, url, init.signal)));
    req.end(init.body);
  });
}

function connectionError(err: unknown, url: URL, signal: AbortSignal | undefined): StowageError {
  if (isStowageError(err)) return err;
  if (signal?.aborted) return new StowageError('ABORTED', `${url.origin}: aborted`, { cause: signal.reason });
  const code = (err as NodeJS.ErrnoException).code;
  return new StowageError(
    'UNAVAILABLE',
    `the hub at ${url.origin} did not answer (${(err as Error).message}${code ? `, ${code}` : ''})`,
    { cause: err, retryable: true },
  );
}

/**
 * A hub answer that is not a success, as a StowageError naming the repo,
 * revision and path; 401/403 explain the token and gated repos' terms.
 */
export function hubError(res: HubResponse, ref: HfRef, settings: HfSettings): StowageError {
  const where = `${ref.type === 'model' ? '' : `${ref.type} `}${ref.repo} at revision "${ref.revision}"`;
  const code = String(res.headers['x-error-code'] ?? '');
  const tokenHint = settings.token
    ? 'the token in HF_TOKEN (or options.hfToken) was refused: check it can read this repo'
    : 'set HF_TOKEN (or options.hfToken) to a token that can read it';
  if (code === 'RepoNotFound') {
    return new StowageError(
      'NOT_FOUND',
      `Hugging Face repo ${ref.repo} (${ref.type}) not found at ${settings.endpoint}; if it is private, ${tokenHint}`,
    );
  }
  if (res.status === 401 || res.status === 403) {
    return new StowageError(
      'ACCESS_DENIED',
      `${ref.path} in ${where}: the hub answered ${res.status}${code === 'GatedRepo' ? ' (gated repo)' : ''}; ${tokenHint}, and accept the repo's terms on ${repoPage(settings.endpoint, ref)} if it is gated`,
    );
  }
  if (res.status === 404 || res.status === 410) {
    const what =
      code === 'RevisionNotFound'
        ? `revision "${ref.revision}" not found in ${ref.repo}`
        : `${ref.path} not found in ${where}`;
    return new StowageError('NOT_FOUND', `Hugging Face: ${what}`);
  }
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  const after = Number(res.headers['retry-after']);
  return new StowageError(
    retryable ? 'UNAVAILABLE' : 'INTERNAL',
    `${ref.path} in ${where}: the hub answered HTTP ${res.status}${res.status === 429 ? ' (rate limited)' : ''}`,
    {
      retryable,
      retryAfter: Number.isFinite(after) && res.headers['retry-after'] !== undefined ? after : undefined,
    },
  );
}
