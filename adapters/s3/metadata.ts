import { invalidArg } from '../../src/core/args.js';
import type { ObjectInfo } from '../../src/core/types.js';

/** Stored as x-amz-meta-sha256: the content's hex sha256, when known before the upload started. */
export const SHA256_META = 'sha256';

/** Refuses user metadata that would collide with what stowage stores itself. */
export function checkUserMetadata(metadata: Record<string, string> | undefined): void {
  if (metadata && SHA256_META in metadata) {
    throw invalidArg(
      'metadata key "sha256" is reserved (stowage stores the content hash there); pass options.sha256 instead',
    );
  }
}

export interface HeadLike {
  ContentLength?: number;
  ETag?: string;
  ContentType?: string;
  LastModified?: Date;
  Metadata?: Record<string, string>;
}

/** ObjectInfo from HeadObject/GetObject output; x-amz-meta-sha256 becomes info.sha256. */
export function infoFromHead(key: string, out: HeadLike, size = out.ContentLength ?? 0): ObjectInfo {
  const { [SHA256_META]: sha256, ...metadata } = lowerKeys(out.Metadata ?? {});
  const info: ObjectInfo = { key, size, metadata };
  if (out.ETag) info.etag = out.ETag;
  if (out.ContentType) info.contentType = out.ContentType;
  if (out.LastModified) info.lastModified = out.LastModified;
  if (sha256 && /^[a-f0-9]{64}$/.test(sha256)) info.sha256 = sha256;
  return info;
}

function lowerKeys(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k.toLowerCase()] = v;
  return out;
}
