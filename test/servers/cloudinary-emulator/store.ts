import { createHash, randomUUID } from 'node:crypto';

export type ResourceType = 'image' | 'video' | 'raw';

export interface StoredResource {
  publicId: string;
  resourceType: ResourceType;
  /** Image and video only: the detected or requested format. */
  format: string | undefined;
  data: Buffer;
  context: Record<string, string>;
  createdAt: Date;
  version: number;
  etag: string;
  assetId: string;
}

/** An unfinished chunked upload (X-Unique-Upload-Id). */
export interface ChunkSession {
  parts: Map<number, Buffer>;
  received: number;
  startedAt: number;
}

/**
 * Parses Cloudinary's context string `k=v|k2=v2`, where `=` and `|` inside
 * keys and values are escaped with a backslash.
 */
export function parseContext(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let key = '';
  let value = '';
  let inValue = false;
  const flush = () => {
    if (key !== '') out[key] = value;
    key = '';
    value = '';
    inValue = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      if (inValue) value += next;
      else key += next;
    } else if (ch === '|') flush();
    else if (ch === '=' && !inValue) inValue = true;
    else if (inValue) value += ch;
    else key += ch;
  }
  flush();
  return out;
}

/** Everything the emulator holds, keyed by resource type and public_id. */
export class ResourceStore {
  readonly resources = new Map<string, StoredResource>();
  readonly chunks = new Map<string, ChunkSession>();

  private id(type: ResourceType, publicId: string): string {
    return `${type}\u0000${publicId}`;
  }

  get(type: ResourceType, publicId: string): StoredResource | undefined {
    return this.resources.get(this.id(type, publicId));
  }

  put(
    type: ResourceType,
    publicId: string,
    data: Buffer,
    format: string | undefined,
    context: Record<string, string>,
  ): StoredResource {
    const resource: StoredResource = {
      publicId,
      resourceType: type,
      format,
      data,
      context,
      createdAt: new Date(),
      version: Math.floor(Date.now() / 1000),
      etag: createHash('md5').update(data).digest('hex'),
      assetId: randomUUID().replace(/-/g, ''),
    };
    this.resources.set(this.id(type, publicId), resource);
    return resource;
  }

  delete(type: ResourceType, publicId: string): boolean {
    return this.resources.delete(this.id(type, publicId));
  }

  /** Resources of one type whose public_id starts with `prefix`, sorted by public_id. */
  list(type: ResourceType, prefix: string): StoredResource[] {
    return [...this.resources.values()]
      .filter((r) => r.resourceType === type && r.publicId.startsWith(prefix))
      .sort((a, b) => (a.publicId < b.publicId ? -1 : a.publicId > b.publicId ? 1 : 0));
  }
}

/** The JSON Cloudinary answers for a resource (upload result and Admin API alike). */
export function describeResource(r: StoredResource, baseUrl: string, cloudName: string) {
  const file = r.format ? `${r.publicId}.${r.format}` : r.publicId;
  const path = `${cloudName}/${r.resourceType}/upload/v${r.version}/${file.split('/').map(encodeURIComponent).join('/')}`;
  return {
    asset_id: r.assetId,
    public_id: r.publicId,
    version: r.version,
    resource_type: r.resourceType,
    type: 'upload',
    ...(r.format ? { format: r.format } : {}),
    bytes: r.data.length,
    created_at: r.createdAt.toISOString(),
    etag: r.etag,
    url: `${baseUrl}/${path}`,
    secure_url: `${baseUrl}/${path}`,
    ...(Object.keys(r.context).length ? { context: { custom: { ...r.context } } } : {}),
  };
}

/** Formats the emulator recognises by their first bytes, as Cloudinary would. */
export function sniffImageFormat(data: Buffer): string | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])))
    return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpg';
  if (data.length >= 6 && /^GIF8[79]a$/.test(data.subarray(0, 6).toString('latin1'))) return 'gif';
  if (
    data.length >= 12 &&
    data.subarray(0, 4).toString('latin1') === 'RIFF' &&
    data.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp';
  if (/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(data.subarray(0, 512).toString('utf8'))) return 'svg';
  return undefined;
}
