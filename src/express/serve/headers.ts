import type { ServerResponse } from 'node:http';
import mime from 'mime-types';
import type { ObjectInfo } from '../../core/types.js';
import { attachmentDisposition, downloadName } from '../../util/content-disposition.js';

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
    res.setHeader('Content-Disposition', attachmentDisposition(downloadName(download, key)));
  } else if (active && options.activeContent === 'attachment') {
    res.setHeader('Content-Disposition', attachmentDisposition(downloadName(true, key)));
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
