import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import cloudinary from 'cloudinary';
import { StowageError, throwIfAborted } from '../../src/core/errors.js';
import { mapSdkError } from './errors.js';
import type { ResourceType } from './public-id.js';
import type { Settings } from './settings.js';

/** The SDK's v2 namespace. Global config is never touched: every call gets its own options. */
export const sdk = cloudinary.v2;

/** What the Upload and Admin APIs answer for one resource (the fields stowage reads). */
export interface CloudinaryResource {
  public_id: string;
  resource_type: string;
  format?: string;
  bytes: number;
  version?: number;
  created_at?: string;
  etag?: string;
  context?: unknown;
}

/**
 * One agent per call: it picks http or https from upload_prefix (the SDK
 * otherwise decides once, when first loaded), and it sees the response
 * headers (Retry-After) and the requests (to abort an upload mid-flight).
 */
export class CallTracker {
  readonly agent: HttpAgent;
  headers: IncomingHttpHeaders | undefined;
  private readonly requests = new Set<ClientRequest>();

  constructor(secure: boolean) {
    this.agent = secure ? new HttpsAgent() : new HttpAgent();
    const agent = this.agent as unknown as { addRequest(req: ClientRequest, options: unknown): void };
    const addRequest = agent.addRequest.bind(agent);
    agent.addRequest = (req, options) => {
      this.requests.add(req);
      req.once('response', (res: IncomingMessage) => {
        this.headers = res.headers;
      });
      req.once('close', () => this.requests.delete(req));
      addRequest(req, options);
    };
  }

  /** Destroys every request in flight, so the server never sees a complete upload. */
  abort(): void {
    for (const req of this.requests) req.destroy(new Error('upload aborted by stowage'));
  }

  close(): void {
    this.agent.destroy();
  }
}

export class CloudinaryClient {
  constructor(readonly settings: Settings) {}

  get secure(): boolean {
    return this.settings.uploadPrefix.startsWith('https:');
  }

  /** Per-call SDK options: credentials and endpoints, never the global config. */
  options(tracker: CallTracker, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const s = this.settings;
    return {
      cloud_name: s.cloudName,
      api_key: s.apiKey,
      api_secret: s.apiSecret,
      upload_prefix: s.uploadPrefix,
      signature_algorithm: s.signatureAlgorithm,
      agent: tracker.agent,
      timeout: s.timeoutMs,
      ...extra,
    };
  }

  /** Runs one SDK call with a fresh tracker, mapping errors; retries what is retryable. */
  async call<T>(
    what: string,
    key: string | undefined,
    attempt: (tracker: CallTracker) => Promise<T>,
    opts: { retry?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    for (let tries = 0; ; tries++) {
      throwIfAborted(opts.signal, key);
      const tracker = new CallTracker(this.secure);
      try {
        return await attempt(tracker);
      } catch (err) {
        const mapped = mapSdkError(err, what, key, tracker.headers);
        if (opts.retry === false || !mapped.retryable || tries >= this.settings.maxRetries) throw mapped;
        await sleep(this.retryDelay(tries, mapped.retryAfter), opts.signal, key);
      } finally {
        tracker.close();
      }
    }
  }

  private retryDelay(tries: number, retryAfter: number | undefined): number {
    const wanted = retryAfter !== undefined ? retryAfter * 1000 : 250 * 2 ** tries * (1 + Math.random() / 2);
    return Math.min(wanted, this.settings.maxRetryDelayMs);
  }

  resource(type: ResourceType, publicId: string, key: string): Promise<CloudinaryResource> {
    return this.call('head', key, (t) =>
      sdk.api.resource(publicId, this.options(t, { resource_type: type, type: 'upload' })),
    ) as Promise<CloudinaryResource>;
  }

  resources(
    type: ResourceType,
    prefix: string,
    maxResults: number,
    cursor: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ resources: CloudinaryResource[]; next_cursor?: string }> {
    const extra: Record<string, unknown> = {
      resource_type: type,
      type: 'upload',
      prefix,
      max_results: maxResults,
      context: true,
    };
    if (cursor) extra.next_cursor = cursor;
    return this.call('list', undefined, (t) => sdk.api.resources(this.options(t, extra)), {
      signal,
    }) as Promise<{
      resources: CloudinaryResource[];
      next_cursor?: string;
    }>;
  }

  async destroy(type: ResourceType, publicId: string, key: string): Promise<void> {
    await this.call('delete', key, (t) =>
      sdk.uploader.destroy(
        publicId,
        this.options(t, { resource_type: type, type: 'upload', invalidate: this.settings.invalidate }),
      ),
    );
  }

  addContext(
    type: ResourceType,
    publicId: string,
    context: Record<string, string>,
    key: string,
  ): Promise<unknown> {
    return this.call('put', key, (t) =>
      sdk.uploader.add_context(
        context as never,
        [publicId],
        this.options(t, { resource_type: type, type: 'upload' }),
      ),
    );
  }

  /** One upload request carrying the whole body (held in memory, so it can be retried). */
  uploadBuffer(
    data: Buffer,
    params: Record<string, unknown>,
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<CloudinaryResource> {
    return this.call(
      'put',
      key,
      (tracker) =>
        new Promise<CloudinaryResource>((resolve, reject) => {
          const onAbort = () => tracker.abort();
          signal?.addEventListener('abort', onAbort, { once: true });
          const stream = sdk.uploader.upload_stream(this.options(tracker, params), (err, result) => {
            signal?.removeEventListener('abort', onAbort);
            if (err || !result) reject(err ?? new Error('empty upload response'));
            else resolve(result as unknown as CloudinaryResource);
          });
          stream.end(data);
        }),
      { signal },
    );
  }

  /** Upload from a URL Cloudinary fetches itself (how copy works). */
  uploadFromUrl(url: string, params: Record<string, unknown>, key: string): Promise<CloudinaryResource> {
    return this.call('copy', key, (t) =>
      sdk.uploader.upload(url, this.options(t, params)),
    ) as Promise<CloudinaryResource>;
  }

  /** Delivery URL of a stored resource (original bytes unless a transformation is given). */
  deliveryUrl(publicId: string, extra: Record<string, unknown>): string {
    const d = this.settings.delivery;
    return sdk.url(publicId, {
      cloud_name: this.settings.cloudName,
      api_secret: this.settings.apiSecret,
      signature_algorithm: this.settings.signatureAlgorithm,
      secure: d.secure,
      cname: d.cname,
      private_cdn: d.privateCdn,
      secure_distribution: d.secureDistribution,
      cdn_subdomain: d.cdnSubdomain,
      sign_url: this.settings.signUrls,
      type: 'upload',
      urlAnalytics: false,
      ...extra,
    });
  }

  /** Signed, expiring link through the Upload API's download endpoint. */
  privateDownloadUrl(publicId: string, format: string | undefined, extra: Record<string, unknown>): string {
    const s = this.settings;
    return sdk.utils.private_download_url(
      publicId,
      format as string,
      {
        cloud_name: s.cloudName,
        api_key: s.apiKey,
        api_secret: s.apiSecret,
        upload_prefix: s.uploadPrefix,
        signature_algorithm: s.signatureAlgorithm,
        type: 'upload',
        ...extra,
      } as never,
    );
  }

  /** GET of a delivery URL, with an optional Range; resolves with the response once headers arrive. */
  fetch(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<IncomingMessage> {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'GET',
        headers,
        ...(signal ? { signal } : {}),
        timeout: this.settings.timeoutMs,
      });
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(new Error('delivery request timed out')));
      req.on('error', reject);
      req.end();
    });
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, key: string | undefined): Promise<void> {
  throwIfAborted(signal, key);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(new StowageError('ABORTED', `operation aborted${key ? ` for key "${key}"` : ''}`, { key }));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
