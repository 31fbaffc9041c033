import { get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import { flattenQuery, HttpError, parseRange, readBody, readForm, sendError, sendJson } from './http-util.js';
import { deliverySignature, type SignatureAlgorithm, sameText, signParams } from './signature.js';
import {
  describeResource,
  parseContext,
  ResourceStore,
  type ResourceType,
  type StoredResource,
  sniffImageFormat,
} from './store.js';

export interface EmulatorSettings {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  signatureAlgorithm: SignatureAlgorithm;
  /** Seconds a signed request's timestamp stays acceptable (Cloudinary: one hour). */
  maxTimestampAge: number;
  /** Refuse unsigned delivery URLs (like Cloudinary's "strict transformations"). */
  requireSignedDelivery: boolean;
}

interface InjectedFailure {
  remaining: number;
  status: number;
  retryAfter: number | undefined;
}

const RESOURCE_TYPES = new Set<ResourceType>(['image', 'video', 'raw']);

/** Request handling of the emulator; the HTTP server around it lives in index.ts. */
export class CloudinaryEmulator {
  readonly store = new ResourceStore();
  /** Every request seen, for tests that count calls. */
  readonly requests: { method: string; path: string; status: number }[] = [];
  private failure: InjectedFailure | undefined;
  baseUrl = '';

  constructor(readonly settings: EmulatorSettings) {}

  failNext(count: number, status: number, retryAfter?: number): void {
    this.failure = { remaining: count, status, retryAfter };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const entry = { method: req.method ?? 'GET', path: url.pathname, status: 0 };
    this.requests.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    try {
      if (url.pathname.startsWith('/v1_1/')) {
        if (this.failure && this.failure.remaining > 0) {
          this.failure.remaining--;
          await readBody(req).catch(() => undefined);
          const headers: Record<string, string> = {};
          if (this.failure.retryAfter !== undefined) headers['retry-after'] = String(this.failure.retryAfter);
          const message = this.failure.status === 420 ? 'Rate Limit Exceeded' : 'Injected failure';
          throw new HttpError(this.failure.status, message, headers);
        }
        await this.api(req, res, url);
      } else {
        await this.deliver(req, res, url);
      }
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendError(res, err);
      else if ((err as Error).message === 'client aborted the request') res.destroy();
      else sendError(res, new HttpError(500, `emulator error: ${(err as Error).message}`));
    }
  }

  // ---- API (/v1_1/:cloud/…) ----

  private async api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').slice(2);
    const [cloud, first, second, third, ...rest] = parts;
    if (cloud !== this.settings.cloudName) throw new HttpError(401, `Invalid cloud_name ${cloud}`);
    if (first === 'resources') {
      this.checkBasicAuth(req);
      const type = resourceType(second);
      if (third !== undefined && third !== 'upload')
        throw new HttpError(404, `unsupported delivery type ${third}`);
      const publicId = rest.length ? rest.map(decodeURIComponent).join('/') : undefined;
      if (req.method === 'GET' && publicId !== undefined) return this.adminResource(res, type, publicId);
      if (req.method === 'GET') return this.adminList(res, type, flattenQuery(url.searchParams));
      if (req.method === 'DELETE') {
        const body = new URLSearchParams((await readBody(req)).toString('utf8'));
        const ids = [...body.getAll('public_ids[]'), ...url.searchParams.getAll('public_ids[]')];
        return this.adminDelete(res, type, ids);
      }
      throw new HttpError(404, 'unsupported Admin API call');
    }
    const type = resourceType(first);
    const action = second;
    if (action === 'download' && req.method === 'GET') {
      return this.privateDownload(req, res, type, flattenQuery(url.searchParams));
    }
    if (req.method !== 'POST') throw new HttpError(404, `unsupported ${req.method} ${url.pathname}`);
    const form = await readForm(req);
    this.checkSignature(form.fields);
    switch (action) {
      case 'upload':
        return this.upload(req, res, type, form.fields, form.file, form.filename);
      case 'destroy':
        return this.destroy(res, type, form.fields);
      case 'rename':
        return this.rename(res, type, form.fields);
      case 'context':
        return this.context(res, type, form.fields);
      default:
        throw new HttpError(404, `unsupported action ${action}`);
    }
  }

  private checkBasicAuth(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const m = /^Basic (.+)$/.exec(header);
    const expected = Buffer.from(`${this.settings.apiKey}:${this.settings.apiSecret}`).toString('base64');
    if (!m || !sameText(m[1]!, expected)) throw new HttpError(401, 'Invalid credentials');
  }

  /** Signed-request check: api_key, a fresh timestamp and the documented signature. */
  private checkSignature(fields: Record<string, string>): void {
    if (fields.api_key !== this.settings.apiKey)
      throw new HttpError(401, `Invalid api_key ${fields.api_key ?? ''}`);
    const timestamp = Number(fields.timestamp);
    if (!Number.isFinite(timestamp)) throw new HttpError(400, 'Missing required parameter - timestamp');
    const age = Math.floor(Date.now() / 1000) - timestamp;
    if (age > this.settings.maxTimestampAge) {
      throw new HttpError(401, `Stale request - reported time is ${timestamp} which is more than 1 hour ago`);
    }
    const expected = signParams(fields, this.settings.apiSecret, this.settings.signatureAlgorithm);
    if (!fields.signature || !sameText(fields.signature, expected)) {
      throw new HttpError(401, 'Invalid Signature');
    }
  }

  private async upload(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    fields: Record<string, string>,
    file: Buffer | undefined,
    filename: string | undefined,
  ): Promise<void> {
    let data = file;
    if (data === undefined && fields.file && /^https?:\/\//.test(fields.file))
      data = await fetchUrl(fields.file);
    if (data === undefined) throw new HttpError(400, 'Missing required parameter - file');
    if (data.length === 0 && !header(req, 'content-range')) throw new HttpError(400, 'Empty file');
    const uploadId = header(req, 'x-unique-upload-id');
    const contentRange = header(req, 'content-range');
    if (uploadId && contentRange) {
      const whole = this.addChunk(uploadId, contentRange, data);
      if (!whole) return sendJson(res, 200, { done: false });
      data = whole;
    }
    const publicId = fields.public_id || Math.random().toString(36).slice(2, 14);
    const format = this.detectFormat(type, data, filename, fields);
    const allowed = fields.allowed_formats?.split(',').filter(Boolean);
    if (allowed?.length && !allowed.includes(format ?? extensionOf(publicId) ?? '')) {
      throw new HttpError(400, `File format ${format ?? 'unknown'} not allowed`);
    }
    if (fields.overwrite === '0' || fields.overwrite === 'false') {
      const existing = this.store.get(type, publicId);
      if (existing) return sendJson(res, 200, { ...this.describe(existing), existing: true });
    }
    const context = fields.context ? parseContext(fields.context) : {};
    const stored = this.store.put(type, publicId, data, format, context);
    sendJson(res, 200, this.describe(stored));
  }

  /** Stores one chunk; returns the reassembled file once every byte arrived. */
  private addChunk(uploadId: string, contentRange: string, data: Buffer): Buffer | undefined {
    const m = /^bytes (\d+)-(\d+)\/(-?\d+)$/.exec(contentRange);
    if (!m) throw new HttpError(400, `Invalid Content-Range ${contentRange}`);
    const start = Number(m[1]);
    const end = Number(m[2]);
    const total = Number(m[3]);
    if (end - start + 1 !== data.length) {
      throw new HttpError(
        400,
        `Content-Range ${contentRange} does not match a chunk of ${data.length} bytes`,
      );
    }
    let session = this.store.chunks.get(uploadId);
    if (!session) {
      session = { parts: new Map(), received: 0, startedAt: Date.now() };
      this.store.chunks.set(uploadId, session);
    }
    if (data.length > 0 && !session.parts.has(start)) {
      session.parts.set(start, data);
      session.received += data.length;
    }
    if (total < 0 || session.received < total) return undefined;
    const ordered = [...session.parts.entries()].sort((a, b) => a[0] - b[0]);
    let offset = 0;
    for (const [at, part] of ordered) {
      if (at !== offset) throw new HttpError(400, `chunked upload ${uploadId} has a gap at byte ${offset}`);
      offset += part.length;
    }
    if (offset !== total)
      throw new HttpError(400, `chunked upload ${uploadId} has ${offset} of ${total} bytes`);
    this.store.chunks.delete(uploadId);
    return Buffer.concat(
      ordered.map(([, part]) => part),
      total,
    );
  }

  private detectFormat(
    type: ResourceType,
    data: Buffer,
    filename: string | undefined,
    fields: Record<string, string>,
  ): string | undefined {
    if (type === 'raw') return undefined;
    if (type === 'image') {
      const sniffed = sniffImageFormat(data);
      if (!sniffed) throw new HttpError(400, 'Invalid image file');
      return fields.format || sniffed;
    }
    return fields.format || extensionOf(filename ?? '') || 'mp4';
  }

  private destroy(res: ServerResponse, type: ResourceType, fields: Record<string, string>): void {
    const publicId = fields.public_id ?? '';
    sendJson(res, 200, { result: this.store.delete(type, publicId) ? 'ok' : 'not found' });
  }

  private rename(res: ServerResponse, type: ResourceType, fields: Record<string, string>): void {
    const from = this.store.get(type, fields.from_public_id ?? '');
    if (!from) throw new HttpError(404, `Resource not found - ${fields.from_public_id ?? ''}`);
    const to = fields.to_public_id ?? '';
    if (this.store.get(type, to) && fields.overwrite !== '1' && fields.overwrite !== 'true') {
      throw new HttpError(400, `to_public_id ${to} already exists`);
    }
    this.store.delete(type, from.publicId);
    const moved = this.store.put(type, to, from.data, from.format, from.context);
    sendJson(res, 200, this.describe(moved));
  }

  /** add_context: merges key=value pairs into each listed resource's context. */
  private context(res: ServerResponse, type: ResourceType, fields: Record<string, string>): void {
    if (fields.command !== 'add')
      throw new HttpError(400, `unsupported context command ${fields.command ?? ''}`);
    const added = parseContext(fields.context ?? '');
    const ids = (fields.public_ids ?? '').split(',').filter(Boolean);
    const done: string[] = [];
    for (const id of ids) {
      const found = this.store.get(type, id);
      if (!found) continue;
      Object.assign(found.context, added);
      done.push(id);
    }
    sendJson(res, 200, { public_ids: done });
  }

  private adminResource(res: ServerResponse, type: ResourceType, publicId: string): void {
    const found = this.store.get(type, publicId);
    if (!found) throw new HttpError(404, `Resource not found - ${publicId}`);
    sendJson(res, 200, this.describe(found));
  }

  private adminList(res: ServerResponse, type: ResourceType, query: Record<string, string>): void {
    const all = this.store.list(type, query.prefix ?? '');
    const max = Math.min(Math.max(Number(query.max_results ?? 10) || 10, 1), 500);
    const offset = query.next_cursor ? Number(Buffer.from(query.next_cursor, 'base64url').toString()) : 0;
    const page = all.slice(offset, offset + max);
    const withContext = query.context === 'true' || query.context === '1';
    const resources = page.map((r) => {
      const described = this.describe(r);
      if (!withContext) delete (described as { context?: unknown }).context;
      return described;
    });
    const next =
      offset + max < all.length ? Buffer.from(String(offset + max)).toString('base64url') : undefined;
    sendJson(res, 200, { resources, ...(next ? { next_cursor: next } : {}) });
  }

  private adminDelete(res: ServerResponse, type: ResourceType, ids: string[]): void {
    const deleted: Record<string, string> = {};
    for (const id of ids) deleted[id] = this.store.delete(type, id) ? 'deleted' : 'not_found';
    sendJson(res, 200, { deleted, partial: false });
  }

  /** The signed, expiring download URL of the Upload API (private_download_url). */
  private privateDownload(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    query: Record<string, string>,
  ): void {
    this.checkSignature(query);
    if (query.expires_at && Number(query.expires_at) < Date.now() / 1000) {
      throw new HttpError(401, 'Download link expired');
    }
    let found = this.store.get(type, query.public_id ?? '');
    if (found && query.format && found.format && found.format !== query.format) found = undefined;
    if (!found) throw new HttpError(404, `Resource not found - ${query.public_id ?? ''}`);
    const headers: Record<string, string> = {};
    if (query.attachment === 'true' || query.attachment === '1') {
      headers['content-disposition'] = `attachment; filename="${lastSegment(found.publicId)}"`;
    }
    this.sendData(req, res, found, headers);
  }

  // ---- delivery (/:cloud/:resource_type/upload/…) ----

  private deliver(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'delivery is GET only');
    const rawParts = url.pathname.split('/').slice(1);
    const [cloud, rt, deliveryType, ...rest] = rawParts;
    if (cloud !== this.settings.cloudName || deliveryType !== 'upload') throw new HttpError(404, 'Not Found');
    const type = resourceType(rt);
    let signature: string | undefined;
    if (rest[0] && /^s--[A-Za-z0-9_-]+--$/.test(rest[0])) signature = rest.shift()!.slice(3, -2);
    const versionAt = rest.findIndex((p) => /^v\d+$/.test(p));
    const transformation = versionAt >= 0 ? rest.slice(0, versionAt) : rest.slice(0, -1);
    const source = versionAt >= 0 ? rest.slice(versionAt + 1) : rest.slice(-1);
    const signed = [...transformation, ...source].join('/');
    if (signature !== undefined) {
      const expected = deliverySignature(
        signed,
        this.settings.apiSecret,
        this.settings.signatureAlgorithm,
        signature.length,
      );
      if (!sameText(signature, expected)) throw new HttpError(401, 'Invalid URL signature');
    } else if (this.settings.requireSignedDelivery) {
      throw new HttpError(401, 'Unsigned URL refused (strict transformations)');
    }
    const path = source.map(decodeURIComponent).join('/');
    const found = this.findDelivered(type, path);
    if (!found) throw new HttpError(404, 'Resource not found');
    const headers: Record<string, string> = {};
    if (transformation.length) headers['x-emulator-transformation'] = transformation.join('/');
    const flags = transformation
      .join(',')
      .split(',')
      .find((p) => p.startsWith('fl_attachment'));
    if (flags) {
      const name = flags.includes(':') ? flags.split(':')[1]! : lastSegment(found.publicId);
      headers['content-disposition'] = `attachment; filename="${name}"`;
    }
    this.sendData(req, res, found, headers);
  }

  /** Raw: the path is the public_id. Image and video: the path is public_id.format. */
  private findDelivered(type: ResourceType, path: string): StoredResource | undefined {
    if (type === 'raw') return this.store.get(type, path);
    const dot = path.lastIndexOf('.');
    if (dot > path.lastIndexOf('/')) {
      const found = this.store.get(type, path.slice(0, dot));
      if (found) return found;
    }
    return this.store.get(type, path);
  }

  private sendData(
    req: IncomingMessage,
    res: ServerResponse,
    found: StoredResource,
    extra: Record<string, string>,
  ): void {
    const size = found.data.length;
    const range = parseRange(header(req, 'range'), size);
    const headers: Record<string, string> = {
      'content-type': contentTypeOf(found),
      'accept-ranges': 'bytes',
      etag: `"${found.etag}"`,
      'last-modified': found.createdAt.toUTCString(),
      ...extra,
    };
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
      headers['content-length'] = String(range.end - range.start + 1);
      res.writeHead(206, headers);
      res.end(req.method === 'HEAD' ? undefined : found.data.subarray(range.start, range.end + 1));
      return;
    }
    headers['content-length'] = String(size);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : found.data);
  }

  private describe(r: StoredResource) {
    return describeResource(r, this.baseUrl, this.settings.cloudName);
  }
}

function resourceType(value: string | undefined): ResourceType {
  if (value && RESOURCE_TYPES.has(value as ResourceType)) return value as ResourceType;
  throw new HttpError(404, `unsupported resource type ${value ?? '(none)'}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function extensionOf(name: string): string | undefined {
  const last = lastSegment(name);
  const dot = last.lastIndexOf('.');
  return dot > 0 ? last.slice(dot + 1).toLowerCase() : undefined;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function contentTypeOf(r: StoredResource): string {
  if (r.resourceType === 'raw') return 'application/octet-stream';
  const known: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    svg: 'image/svg+xml',
    mp4: 'video/mp4',
    webm: 'video/webm',
    mp3: 'audio/mpeg',
  };
  return known[r.format ?? ''] ?? 'application/octet-stream';
}

/** Upload from a remote URL (how Cloudinary copies): fetches it over plain HTTP. */
function fetchUrl(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new HttpError(400, `Error in loading ${url} - ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
}
