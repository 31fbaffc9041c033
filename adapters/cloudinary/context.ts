import type { ObjectInfo } from '../../src/core/types.js';

/**
 * What stowage keeps in a resource's context (Cloudinary's key=value
 * metadata): user metadata as `meta_<name>`, and its own fields under
 * `stowage_`. The prefixes never overlap, so user metadata cannot clobber them.
 */
const META = 'meta_';
export const CONTEXT_TYPE = 'stowage_type';
export const CONTEXT_SHA256 = 'stowage_sha256';
export const CONTEXT_EXT = 'stowage_ext';
/** Cloudinary refuses empty files: a 0-byte object is stored as one placeholder byte flagged here. */
export const CONTEXT_EMPTY = 'stowage_empty';

export interface StoredFields {
  contentType?: string;
  sha256?: string;
  /** The object is empty; the stored byte is a placeholder. */
  empty?: boolean;
  /** Image and video: the key's exact extension ("-" for none). */
  extension?: string;
  metadata?: Record<string, string>;
}

export function contextOf(fields: StoredFields): Record<string, string> {
  const out: Record<string, string> = {};
  if (fields.contentType) out[CONTEXT_TYPE] = escapeValue(fields.contentType);
  if (fields.sha256) out[CONTEXT_SHA256] = fields.sha256;
  if (fields.empty) out[CONTEXT_EMPTY] = '1';
  if (fields.extension !== undefined) out[CONTEXT_EXT] = escapeValue(fields.extension);
  for (const [k, v] of Object.entries(fields.metadata ?? {})) out[META + k] = escapeValue(v);
  return out;
}

/**
 * Cloudinary's context format (`k=v|k2=v2`, backslash escapes) is ambiguous
 * for values ending in a backslash; stowage percent-escapes `% \ | =`
 * itself so every printable ASCII value round-trips.
 */
function escapeValue(value: string): string {
  return value.replace(/[%\\|=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescapeValue(value: string): string {
  return value.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The custom context of an upload result or Admin API resource. */
export function customContext(resource: { context?: unknown }): Record<string, string> {
  const context = resource.context as { custom?: Record<string, unknown> } | undefined;
  const custom = context?.custom ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(custom)) if (typeof v === 'string') out[k] = unescapeValue(v);
  return out;
}

export function fieldsOf(
  context: Record<string, string>,
): Pick<ObjectInfo, 'metadata' | 'contentType' | 'sha256'> {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) if (k.startsWith(META)) metadata[k.slice(META.length)] = v;
  const out: Pick<ObjectInfo, 'metadata' | 'contentType' | 'sha256'> = { metadata };
  if (context[CONTEXT_TYPE]) out.contentType = context[CONTEXT_TYPE];
  if (context[CONTEXT_SHA256] && /^[a-f0-9]{64}$/.test(context[CONTEXT_SHA256]))
    out.sha256 = context[CONTEXT_SHA256];
  return out;
}
