import type { IncomingHttpHeaders } from 'node:http';

export type Precondition = 'proceed' | 'not-modified' | 'precondition-failed';

/**
 * RFC 9110 §13.2.2 order: If-Match, then If-Unmodified-Since (412 when
 * they fail), then If-None-Match, else If-Modified-Since (304 for GET and
 * HEAD). A request with `Cache-Control: no-cache` always gets the body, as
 * the `fresh` module does.
 */
export function evaluatePreconditions(
  headers: IncomingHttpHeaders,
  etag: string | undefined,
  lastModified: Date | undefined,
): Precondition {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!matchesAny(ifMatch, etag, 'strong')) return 'precondition-failed';
  } else {
    const since = parseHttpDate(headers['if-unmodified-since']);
    if (since !== undefined && lastModified && seconds(lastModified) > since) return 'precondition-failed';
  }
  if (/(?:^|,)\s*no-cache\s*(?:,|$)/i.test(headers['cache-control'] ?? '')) return 'proceed';
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return matchesAny(ifNoneMatch, etag, 'weak') ? 'not-modified' : 'proceed';
  const modifiedSince = parseHttpDate(headers['if-modified-since']);
  if (modifiedSince !== undefined && lastModified && seconds(lastModified) <= modifiedSince)
    return 'not-modified';
  return 'proceed';
}

/**
 * If-Range as the `send` module applies it: an entity tag must match the
 * current one (strongly: a weak tag never matches); a date must be no
 * earlier than Last-Modified. False means "send the whole object".
 */
export function isRangeFresh(
  ifRange: string | undefined,
  etag: string | undefined,
  lastModified: Date | undefined,
): boolean {
  if (!ifRange) return true;
  const value = ifRange.trim();
  if (value.includes('"')) {
    return etag !== undefined && !value.startsWith('W/') && !etag.startsWith('W/') && value === etag;
  }
  const date = parseHttpDate(value);
  return date !== undefined && lastModified !== undefined && seconds(lastModified) <= date;
}

function matchesAny(header: string, etag: string | undefined, mode: 'strong' | 'weak'): boolean {
  if (etag === undefined) return false;
  if (header.trim() === '*') return true;
  if (mode === 'strong' && etag.startsWith('W/')) return false;
  const mine = opaque(etag);
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    if (mode === 'strong' && tag.startsWith('W/')) return false;
    return opaque(tag) === mine;
  });
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** HTTP dates have one-second precision: compare in whole seconds. */
function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
