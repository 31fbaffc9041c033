import type { ServerResponse } from 'node:http';
import mime from 'mime-types';
import type { ObjectInfo } from '../../types.js';

/** What to do with content a browser would execute or render as a page. */
export type ActiveContentPolicy = 'sandbox' | 'attachment' | 'allow';

/** A sandbox with no origin and no subresources: an uploaded page can neither run script nor call home. */
export const SANDBOX_CSP = "sandbox; default-src 'none'";

const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'text/ecmascript',
  'application/ecmascript',
  'text/vtt',
  'application/x-shockwave-flash',
  'multipart/x-mixed-replace',
  'text/rdf',
  'application/rdf+xml',
  'application/mathml+xml',
]);

/** Content types a browser renders as a document or runs: html, svg, any xml, javascript. */
export function isActiveContent(contentType: string): boolean {
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  return ACTIVE_TYPES.has(base) || base.endsWith('+xml') || base.endsWith('/xml');
}

export interface HeaderOptions {
  cacheControl: string | false;
  activeContent: ActiveContentPolicy;
}

/** The representation headers every 200, 206 and HEAD answer carries. */
export function setObjectHeaders(
  res: ServerResponse,
  key: string,
  info: ObjectInfo,
  etag: string | undefined,
  options: HeaderOptions,
  download: string | true | undefined,
): void {
  const contentType = withCharset(info.contentType || 'application/octet-stream');
  res.setHeader('Content-Type', contentType);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Accept-Ranges', 'bytes');
  setValidators(res, etag, info.lastModified, options.cacheControl);
  const active = options.activeContent !== 'allow' && isActiveContent(contentType);
  if (download !== undefined) {
    res.setHeader('Content-Disposition', attachment(download === true ? baseName(key) : download));
  } else if (active && options.activeContent === 'attachment') {
    res.setHeader('Content-Disposition', attachment(baseName(key)));
  }
  if (active) res.setHeader('Content-Security-Policy', SANDBOX_CSP);
}

/** ETag, Last-Modified and Cache-Control: also what a 304 carries. */
export function setValidators(
  res: ServerResponse,
  etag: string | undefined,
  lastModified: Date | undefined,
  cacheControl: string | false,
): void {
  if (etag) res.setHeader('ETag', etag);
  if (lastModified && !Number.isNaN(lastModified.getTime()))
    res.setHeader('Last-Modified', lastModified.toUTCString());
  if (cacheControl) res.setHeader('Cache-Control', cacheControl);
}

/** The object's ETag, or a weak one from size and mtime when the backend gives none. */
export function etagOf(info: ObjectInfo): string | undefined {
  if (info.etag) return /^(W\/)?"[^"]*"$/.test(info.etag) ? info.etag : `"${info.etag.replace(/"/g, '')}"`;
  if (!info.lastModified) return undefined;
  return `W/"${info.size.toString(16)}-${info.lastModified.getTime().toString(16)}"`;
}

/** Text without a charset gets the one its type implies (UTF-8), as express.static does. */
function withCharset(contentType: string): string {
  if (/;\s*charset=/i.test(contentType) || !contentType.includes('/')) return contentType;
  return mime.contentType(contentType) || contentType;
}

/** RFC 6266: an ASCII fallback name plus the exact UTF-8 name. */
export function attachment(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point (header injection)
  const clean = name.replace(/[\\/]/g, '_').replace(/[\u0000-\u001f\u007f]/g, '') || 'download';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_').replace(/["%]/g, '_');
  const encoded = encodeURIComponent(clean).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return ascii === clean
    ? `attachment; filename="${ascii}"`
    : `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
