import { Readable } from 'node:stream';
import mime from 'mime-types';
import { defaultContentType } from '../../src/adapter-kit/content-type.js';
import { checkListOptions } from '../../src/adapter-kit/list-options.js';
import { checkPresignOptions } from '../../src/adapter-kit/presign-options.js';
import { beginWrite, type Write, writeFailure } from '../../src/adapter-kit/write.js';
import {
  checkOptionsObject,
  checkRange,
  checkUrlOptions,
  invalidArg,
  resolveRange,
} from '../../src/core/args.js';
import { foundOrNot, isStowageError, StowageError, throwIfAborted } from '../../src/core/errors.js';
import { validateKey, validatePrefix } from '../../src/core/keys.js';
import type {
  Body,
  Capabilities,
  DirectUpload,
  GetOptions,
  GetResult,
  ListOptions,
  ObjectInfo,
  PresignUploadOptions,
  PutOptions,
  Storage,
} from '../../src/core/types.js';
import { compareKeys } from '../../src/util/ordering.js';
import { ChunkedUpload, readHead } from './chunked-upload.js';
import { CloudinaryClient, type CloudinaryResource, sdk } from './client.js';
import { CONTEXT_EMPTY, CONTEXT_EXT, contextOf, customContext, fieldsOf } from './context.js';
import { fetchDelivery } from './delivery.js';
import { mapSdkError } from './errors.js';
import {
  encodeListPrefix,
  encodePath,
  keyOf,
  NO_EXTENSION,
  RESOURCE_TYPES,
  type ResourceType,
  type Target,
  targetOf,
  typeOfContentType,
  typeOfKey,
} from './public-id.js';
import {
  type CloudinaryStorageOptions,
  type CloudinaryUrlOptions,
  resolveSettings,
  type Settings,
} from './settings.js';

/** One put() in progress. */
interface Upload {
  write: Write;
  target: Target;
  iterator: AsyncIterator<Buffer>;
  context: (sha256: string | undefined, empty?: boolean) => Record<string, string>;
  chunked: ChunkedUpload | undefined;
}

interface Uploaded {
  result: CloudinaryResource;
  sha256: string;
  empty: boolean;
}

interface Located {
  target: Target;
  resource: CloudinaryResource;
  info: ObjectInfo;
}

/** Cloudinary's expiring links last this long at most: its signed-request window. */
const SIGNATURE_WINDOW = 3600;

/**
 * Objects as Cloudinary assets, through the official SDK with per-call
 * credentials (two instances never share configuration). See public-id.ts
 * for how keys map to public_ids and resource types, and context.ts for
 * where content type, metadata and sha256 live.
 */
export class CloudinaryStorage implements Storage {
  readonly name = 'cloudinary';
  readonly capabilities: Capabilities = {
    rangeReads: true,
    copy: true,
    signedUrls: true,
    metadata: true,
    contentType: true,
    // Three resource types are listed one after the other, in public_id order.
    sortedList: false,
    // resources() with context: true returns what head() reads.
    listDetails: true,
    // Plan-dependent on Cloudinary's side; an oversized upload fails with TOO_LARGE or INVALID_ARGUMENT.
    maxObjectSize: Number.POSITIVE_INFINITY,
    keyIsAlsoPrefix: true,
    beforeCommit: false,
  };
  private readonly settings: Settings;
  private readonly client: CloudinaryClient;

  constructor(options: CloudinaryStorageOptions) {
    this.settings = resolveSettings(options, encodePath);
    this.client = new CloudinaryClient(this.settings);
  }

  /** The folder (encoded, with a trailing "/") every public_id lives under, or "". */
  get folder(): string {
    return this.settings.folder;
  }

  /** The resource type and public_id a key maps to when written with this content type. */
  targetFor(key: string, contentType?: string): Target {
    const valid = validateKey(key);
    return targetOf(valid, this.typeForPut(valid, contentType), this.settings.folder);
  }

  async put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo> {
    const write = beginWrite(this, key, body, opts);
    const { key: valid, options } = write;
    const target = targetOf(valid, this.typeForPut(valid, options.contentType), this.settings.folder);
    const context = (sha256: string | undefined, empty = false) =>
      contextOf({
        ...(empty ? { empty } : {}),
        ...(options.contentType ? { contentType: options.contentType } : {}),
        ...(sha256 ? { sha256 } : {}),
        ...(target.type !== 'raw' ? { extension: target.extension || NO_EXTENSION } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
      });
    const upload: Upload = { write, target, iterator: write.chunks(), context, chunked: undefined };
    try {
      const head = await readHead(upload.iterator, this.settings.chunkThreshold);
      const done = head.ended ? await this.uploadWhole(upload, head) : await this.uploadChunked(upload, head);
      await this.removeOtherTypes(valid, target.type);
      return this.infoFrom(valid, { ...done.result, context: { custom: context(done.sha256, done.empty) } });
    } catch (err) {
      upload.chunked?.abort();
      throw writeFailure(write, err, (e) => mapSdkError(e, 'put', valid, undefined));
    }
  }

  /** Small enough for one request: verified before anything is sent, and retryable. */
  private async uploadWhole(u: Upload, head: { chunks: Buffer[]; bytes: number }): Promise<Uploaded> {
    const { key, options } = u.write;
    const { sha256 } = await u.write.publishable();
    const empty = head.bytes === 0;
    const data = empty ? EMPTY_PLACEHOLDER : Buffer.concat(head.chunks, head.bytes);
    const params = this.uploadParams(u.target, u.context(sha256, empty));
    const result = await this.client.uploadBuffer(data, params, key, options.signal);
    return { result, sha256, empty };
  }

  /** Chunked: the last chunk goes out only once the whole body is verified. */
  private async uploadChunked(u: Upload, head: { chunks: Buffer[] }): Promise<Uploaded> {
    const { key, options } = u.write;
    const params = this.uploadParams(u.target, u.context(options.sha256));
    const chunked = new ChunkedUpload(this.client, params, key, options.signal);
    u.chunked = chunked;
    for (const chunk of head.chunks) await chunked.write(chunk);
    for (let next = await u.iterator.next(); !next.done; next = await u.iterator.next()) {
      await chunked.write(next.value);
    }
    const { sha256 } = await u.write.publishable();
    const result = await chunked.finish();
    u.chunked = undefined;
    // The signed params were fixed before the body was read: add the sha256 now.
    if (!options.sha256) {
      await this.client.addContext(u.target.type, u.target.publicId, contextOf({ sha256 }), key);
    }
    return { result, sha256, empty: false };
  }

  async get(key: string, opts?: GetOptions): Promise<GetResult> {
    const valid = validateKey(key);
    checkOptionsObject(opts, 'get options');
    const range = checkRange(opts?.range);
    throwIfAborted(opts?.signal, valid);
    const located = await this.locate(valid);
    const resolved = range ? resolveRange(range, located.info.size, valid) : undefined;
    if (located.info.size === 0) return { info: located.info, body: Readable.from([]) };
    const url = this.client.deliveryUrl(located.resource.public_id, this.deliveryOptions(located));
    const body: Readable = await fetchDelivery(this.client, url, valid, resolved, opts?.signal);
    return resolved ? { info: located.info, body, range: resolved } : { info: located.info, body };
  }

  async head(key: string): Promise<ObjectInfo> {
    return (await this.locate(validateKey(key))).info;
  }

  async exists(key: string): Promise<boolean> {
    return foundOrNot(this.head(key));
  }

  async delete(key: string): Promise<void> {
    const valid = validateKey(key);
    await Promise.all(this.lookupTypes(valid).map((type) => this.deleteAs(valid, type)));
  }

  async *list(prefix?: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    const validPrefix = validatePrefix(prefix);
    // Larger page sizes are capped at Cloudinary's 500 below, not refused.
    const { pageSize, startAfter, signal } = checkListOptions(opts, { defaultPageSize: 100 });
    const publicIdPrefix = this.settings.folder + encodeListPrefix(validPrefix);
    const types = this.settings.resourceType ? [this.settings.resourceType] : RESOURCE_TYPES;
    for (const type of types) {
      let cursor: string | undefined;
      do {
        throwIfAborted(signal);
        const page = await this.client.resources(
          type,
          publicIdPrefix,
          Math.min(pageSize, 500),
          cursor,
          signal,
        );
        for (const resource of page.resources) {
          const key = this.keyOfResource(resource);
          if (key === undefined || !key.startsWith(validPrefix)) continue;
          if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
          yield this.infoFrom(key, resource);
        }
        cursor = page.next_cursor;
      } while (cursor);
    }
  }

  async copy(from: string, to: string): Promise<ObjectInfo> {
    const source = validateKey(from, 'from');
    const destination = validateKey(to, 'to');
    const located = await this.locate(source);
    const info = located.info;
    const target = targetOf(
      destination,
      this.typeForPut(destination, info.contentType),
      this.settings.folder,
    );
    const storedType = fieldsOf(customContext(located.resource)).contentType;
    const context = contextOf({
      ...(info.size === 0 ? { empty: true } : {}),
      ...(storedType ? { contentType: storedType } : {}),
      ...(info.sha256 ? { sha256: info.sha256 } : {}),
      ...(target.type !== 'raw' ? { extension: target.extension || NO_EXTENSION } : {}),
      metadata: info.metadata,
    });
    // Cloudinary copies by uploading from a URL it fetches itself: the source's original bytes.
    const url = this.client.deliveryUrl(located.resource.public_id, this.deliveryOptions(located));
    const result = await this.client.uploadFromUrl(url, this.uploadParams(target, context), destination);
    await this.removeOtherTypes(destination, target.type);
    return this.infoFrom(destination, { ...result, context: { custom: context } });
  }

  async url(key: string, opts?: CloudinaryUrlOptions): Promise<string> {
    const valid = validateKey(key);
    const options = checkUrlOptions(opts);
    if (options.transform !== undefined && typeof options.transform !== 'string') {
      checkOptionsObject(options.transform, 'options.transform');
    }
    const target = await this.targetForUrl(valid);
    if (options.transform !== undefined && target.type === 'raw') {
      throw new StowageError(
        'NOT_SUPPORTED',
        `"${valid}" is a raw file: Cloudinary transforms images and videos only`,
        {
          key: valid,
        },
      );
    }
    if (options.expiresIn !== undefined) {
      if (options.transform !== undefined) {
        throw new StowageError(
          'NOT_SUPPORTED',
          "Cloudinary's expiring links (private download URLs) carry no transformation; drop expiresIn or transform",
          { key: valid },
        );
      }
      return this.client.privateDownloadUrl(target.publicId, target.format, {
        resource_type: target.type,
        expires_at: Math.floor(Date.now() / 1000) + Math.ceil(options.expiresIn),
        ...(options.download ? { attachment: true } : {}),
      });
    }
    const extra: Record<string, unknown> = { resource_type: target.type, version: 1 };
    if (target.format) extra.format = target.format;
    if (typeof options.transform === 'string') extra.raw_transformation = options.transform;
    else if (options.transform) extra.transformation = [options.transform];
    if (options.download) extra.flags = attachmentFlag(options.download);
    if (options.transform !== undefined) extra.sign_url = true;
    return this.client.deliveryUrl(target.publicId, extra);
  }

  async presignUpload(key: string, opts: PresignUploadOptions): Promise<DirectUpload> {
    const valid = validateKey(key);
    const {
      contentType,
      exactType: exact,
      metadata,
    } = checkPresignOptions(opts, {
      maxExpiresIn: SIGNATURE_WINDOW,
      why: "Cloudinary's signature window",
    });
    const type = this.typeForPut(valid, contentType);
    if (contentType && typeOfContentType(contentType) !== type) {
      throw invalidArg(
        `key "${valid}" is stored as a Cloudinary ${type} file, which cannot be of type ${contentType}`,
      );
    }
    const target = targetOf(valid, type, this.settings.folder);
    const params: Record<string, unknown> = {
      timestamp: Math.floor(Date.now() / 1000),
      public_id: target.publicId,
      overwrite: true,
      context: (sdk.utils as unknown as { encode_context(c: Record<string, string>): string }).encode_context(
        contextOf({
          ...(exact ? { contentType: exact } : {}),
          ...(type !== 'raw' ? { extension: target.extension || NO_EXTENSION } : {}),
          ...(Object.keys(metadata).length ? { metadata } : {}),
        }) as never,
      ),
    };
    const formats = exact ? allowedFormats(exact, target) : undefined;
    if (formats) params.allowed_formats = formats.join(',');
    if (this.settings.invalidate) params.invalidate = true;
    const signed = sdk.utils.sign_request(
      params as never,
      {
        api_key: this.settings.apiKey,
        api_secret: this.settings.apiSecret,
        signature_algorithm: this.settings.signatureAlgorithm,
      } as never,
    ) as Record<string, unknown>;
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed)) if (v !== undefined && v !== null) fields[k] = String(v);
    return {
      key: valid,
      method: 'POST',
      url: `${this.settings.uploadPrefix}/v1_1/${encodeURIComponent(this.settings.cloudName)}/${type}/upload`,
      fields,
      fileField: 'file',
      headers: {},
      // Cloudinary accepts a signed timestamp for one hour; it cannot be shortened.
      expiresAt: new Date((Number(params.timestamp) + SIGNATURE_WINDOW) * 1000),
    };
  }

  // ---- internals ----

  /** Fixed by option, else by the key's extension, else by content type; raw when nothing says otherwise. */
  private typeForPut(key: string, contentType: string | undefined): ResourceType {
    return this.settings.resourceType ?? typeOfKey(key) ?? typeOfContentType(contentType) ?? 'raw';
  }

  /** Where a key can live: one type when its extension says, all three when it has none. */
  private lookupTypes(key: string): readonly ResourceType[] {
    const fixed = this.settings.resourceType ?? typeOfKey(key);
    return fixed ? [fixed] : RESOURCE_TYPES;
  }

  private async locate(key: string): Promise<Located> {
    for (const type of this.lookupTypes(key)) {
      const target = targetOf(key, type, this.settings.folder);
      let resource: CloudinaryResource;
      try {
        resource = await this.client.resource(type, target.publicId, key);
      } catch (err) {
        if (isStowageError(err, 'NOT_FOUND')) continue;
        throw err;
      }
      // Image keys differing only by extension share a public_id: check it is this key's.
      if (this.keyOfResource(resource) !== key) continue;
      return { target, resource, info: this.infoFrom(key, resource) };
    }
    throw new StowageError('NOT_FOUND', `no object at key "${key}"`, { key });
  }

  private async targetForUrl(key: string): Promise<Target> {
    const types = this.lookupTypes(key);
    if (types.length === 1) return targetOf(key, types[0]!, this.settings.folder);
    try {
      return (await this.locate(key)).target;
    } catch (err) {
      if (isStowageError(err, 'NOT_FOUND')) return targetOf(key, 'raw', this.settings.folder);
      throw err;
    }
  }

  private async deleteAs(key: string, type: ResourceType): Promise<void> {
    const target = targetOf(key, type, this.settings.folder);
    if (type !== 'raw') {
      try {
        const resource = await this.client.resource(type, target.publicId, key);
        if (this.keyOfResource(resource) !== key) return;
      } catch (err) {
        if (isStowageError(err, 'NOT_FOUND')) return;
        throw err;
      }
    }
    await this.client.destroy(type, target.publicId, key);
  }

  /** A key without a telling extension may have been stored under another type before: remove those. */
  private async removeOtherTypes(key: string, kept: ResourceType): Promise<void> {
    if (this.lookupTypes(key).length === 1) return;
    await Promise.all(RESOURCE_TYPES.filter((t) => t !== kept).map((t) => this.deleteAs(key, t)));
  }

  /** The key a resource holds, or undefined when it is not one stowage could have written. */
  private keyOfResource(resource: CloudinaryResource): string | undefined {
    const context = customContext(resource);
    const key = keyOf(resource, this.settings.folder, context[CONTEXT_EXT]);
    if (key === undefined) return undefined;
    try {
      if (validateKey(key) !== key) return undefined;
      const type = resource.resource_type as ResourceType;
      return targetOf(key, type, this.settings.folder).publicId === resource.public_id ? key : undefined;
    } catch {
      return undefined;
    }
  }

  private uploadParams(target: Target, context: Record<string, string>): Record<string, unknown> {
    return {
      resource_type: target.type,
      type: 'upload',
      public_id: target.publicId,
      overwrite: true,
      invalidate: this.settings.invalidate,
      context,
      // The multipart file name: only the extension matters (Cloudinary reads the format from it).
      filename: `file${target.type === 'raw' ? '' : target.extension}`,
    };
  }

  private deliveryOptions(located: Located): Record<string, unknown> {
    const r = located.resource;
    const extra: Record<string, unknown> = { resource_type: r.resource_type, version: r.version ?? 1 };
    if (r.resource_type !== 'raw' && r.format) extra.format = r.format;
    return extra;
  }

  private infoFrom(key: string, resource: CloudinaryResource): ObjectInfo {
    const context = customContext(resource);
    const fields = fieldsOf(context);
    const size = context[CONTEXT_EMPTY] === '1' ? 0 : resource.bytes;
    const info: ObjectInfo = { key, size, metadata: fields.metadata };
    if (resource.etag) info.etag = `"${resource.etag}"`;
    if (resource.created_at) info.lastModified = new Date(resource.created_at);
    info.contentType = defaultContentType(key, fields.contentType);
    if (fields.sha256) info.sha256 = fields.sha256;
    return info;
  }
}

/** What an empty object is stored as (Cloudinary answers "Empty file" to 0 bytes). */
const EMPTY_PLACEHOLDER = Buffer.from([0]);

function attachmentFlag(download: boolean | string): string {
  if (download === true) return 'attachment';
  // fl_attachment takes a name without extension and without URL-special characters.
  const name = String(download)
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9_-]/g, '_');
  return name ? `attachment:${name}` : 'attachment';
}

/** Formats Cloudinary should accept for an exact content type (its file extensions). */
function allowedFormats(contentType: string, target: Target): string[] | undefined {
  const extensions = mime.extensions[contentType.split(';')[0]!.trim().toLowerCase()];
  if (!extensions?.length) return undefined;
  const formats = new Set(extensions);
  if (formats.has('jpeg')) formats.add('jpg');
  if (target.format) formats.add(target.format);
  return [...formats];
}
