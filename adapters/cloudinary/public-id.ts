import mime from 'mime-types';
import { StowageError } from '../../src/core/errors.js';

/**
 * How stowage keys become Cloudinary public_ids, and back.
 *
 * - public_id = folder + "/" + encoded key. Encoding keeps ASCII letters,
 *   digits, "_", "-", ".", "/" and every non-ASCII character; every other
 *   ASCII character (space ? & # % \ < > + ~ …) becomes "~" + two hex digits,
 *   and a "." ending a segment becomes "~2E" (URLs and Cloudinary treat
 *   trailing dots oddly). "~" is always escaped, so decoding is exact.
 * - raw: the whole key, extension included, is the public_id.
 * - image and video: the extension is Cloudinary's format, so the public_id
 *   is the key without it ("a/photo.jpg" → "a/photo", format "jpg"); the
 *   exact extension (".JPG", or none) is kept in context as `stowage_ext`,
 *   so keys come back byte for byte. Consequence: two image keys that differ
 *   only by extension ("a/p.jpg", "a/p.png") share one asset; the later put
 *   replaces the earlier, which then reads as NOT_FOUND.
 */
export type ResourceType = 'image' | 'video' | 'raw';

export const RESOURCE_TYPES: readonly ResourceType[] = ['raw', 'image', 'video'];

/** Cloudinary's limit on a public_id. */
export const MAX_PUBLIC_ID = 255;

const KEEP = /[A-Za-z0-9_.\-/]/;

export function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      let out = '';
      for (const ch of segment) {
        const code = ch.codePointAt(0)!;
        out += code > 0x7f || KEEP.test(ch) ? ch : `~${code.toString(16).toUpperCase().padStart(2, '0')}`;
      }
      return out.endsWith('.') ? `${out.slice(0, -1)}~2E` : out;
    })
    .join('/');
}

/**
 * Encodes a list prefix so that it is a prefix of every matching public_id:
 * no trailing-dot escape, and cut before a "." in the last segment (an image
 * key's extension is not in its public_id). Callers filter by key afterwards.
 */
export function encodeListPrefix(prefix: string): string {
  const lastSlash = prefix.lastIndexOf('/');
  const dot = prefix.indexOf('.', lastSlash + 1);
  const kept = dot >= 0 ? prefix.slice(0, dot) : prefix;
  return kept
    .split('/')
    .map((segment) => encodePath(`${segment}x`).slice(0, -1))
    .join('/');
}

export function decodePath(encoded: string): string {
  return encoded.replace(/~([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** Extensions Cloudinary stores as images and as videos (audio included); other known extensions are raw. */
const IMAGE_EXTENSIONS = new Set(
  'jpg jpeg jpe png gif webp avif bmp tif tiff ico svg heic heif jxl jp2 psd'.split(' '),
);
const VIDEO_EXTENSIONS = new Set(
  'mp4 m4v webm mov ogv avi mkv flv wmv 3gp mpeg mpg mp3 wav aac m4a flac oga opus'.split(' '),
);

/**
 * The resource type a key's extension implies, or undefined when it has
 * none that mime-types knows. Listed extensions only, so "app.ts" (MPEG-TS
 * to mime-types) stays a raw file.
 */
export function typeOfKey(key: string): ResourceType | undefined {
  const [, extension] = splitExtension(key);
  const ext = extension.slice(1).toLowerCase();
  if (IMAGE_EXTENSIONS.has(ext)) return 'image';
  if (VIDEO_EXTENSIONS.has(ext)) return 'video';
  return ext && mime.lookup(ext) ? 'raw' : undefined;
}

export function typeOfContentType(contentType: string | undefined): ResourceType | undefined {
  if (!contentType) return undefined;
  if (contentType.startsWith('image/')) return 'image';
  if (contentType.startsWith('video/') || contentType.startsWith('audio/')) return 'video';
  return 'raw';
}

export interface Target {
  type: ResourceType;
  publicId: string;
  /** Image and video: the key's extension, lower-cased (the delivery format). */
  format: string | undefined;
  /** Image and video: the exact extension with its dot, or "" when the key has none. */
  extension: string;
}

/** Splits "a/b.JPG" into ["a/b", ".JPG"]; no extension when the last segment has no inner dot. */
export function splitExtension(key: string): [string, string] {
  const m = /^(.*[^/.])(\.[A-Za-z0-9]+)$/.exec(key);
  return m ? [m[1]!, m[2]!] : [key, ''];
}

export function targetOf(key: string, type: ResourceType, folder: string): Target {
  const [stem, extension] = type === 'raw' ? [key, ''] : splitExtension(key);
  const publicId = folder + encodePath(stem);
  if (publicId.length > MAX_PUBLIC_ID) {
    throw new StowageError(
      'INVALID_KEY',
      `key is too long for Cloudinary once encoded (${publicId.length} of ${MAX_PUBLIC_ID} characters); shorten it`,
    );
  }
  return { type, publicId, format: extension ? extension.slice(1).toLowerCase() : undefined, extension };
}

/**
 * The key of a stored resource, or undefined when it lies outside the folder.
 * `storedExtension` is the context's `stowage_ext`; resources uploaded
 * outside stowage fall back to their format.
 */
export function keyOf(
  resource: { public_id: string; resource_type: string; format?: string },
  folder: string,
  storedExtension: string | undefined,
): string | undefined {
  if (!resource.public_id.startsWith(folder)) return undefined;
  const stem = decodePath(resource.public_id.slice(folder.length));
  if (resource.resource_type === 'raw') return stem;
  if (storedExtension !== undefined) return stem + (storedExtension === NO_EXTENSION ? '' : storedExtension);
  return resource.format ? `${stem}.${resource.format}` : stem;
}

/** Context value of `stowage_ext` for a key without extension. */
export const NO_EXTENSION = '-';
