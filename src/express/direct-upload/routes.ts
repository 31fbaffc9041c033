import type { IncomingMessage } from 'node:http';
import type { DirectUploadAction } from './options.js';

/** One request to the direct-upload endpoints, as routed. */
export interface Route {
  action: DirectUploadAction;
  /** The route answers in the shape Uppy's @uppy/aws-s3 (Companion mode) reads. */
  companion: boolean;
  /** The body is JSON (POST); else the query is the input. */
  jsonBody: boolean;
  query: URLSearchParams;
  uploadId?: string;
  partNumber?: string;
}

/**
 * The endpoints under directUpload's mount:
 *   POST /presign, POST /confirm                       (stowage's own)
 *   GET  /s3/params                                     → presign
 *   POST /s3/multipart                                  → multipart-create
 *   GET  /s3/multipart/:uploadId/batch?partNumbers=1,2 → multipart-sign
 *   GET  /s3/multipart/:uploadId/:partNumber            → multipart-sign
 *   GET  /s3/multipart/:uploadId                        → multipart-list
 *   POST /s3/multipart/:uploadId/complete               → multipart-complete
 *   DELETE /s3/multipart/:uploadId                      → multipart-abort
 * (Companion's S3 routes, `key` in the query.) Anything else is not ours.
 */
export function routeOf(req: IncomingMessage): Route | undefined {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  const path = (at === -1 ? url : url.slice(0, at)).replace(/\/+$/, '');
  const query = new URLSearchParams(at === -1 ? '' : url.slice(at + 1));
  const method = req.method;
  const own = (action: DirectUploadAction): Route => ({ action, companion: false, jsonBody: true, query });
  if (method === 'POST' && path === '/presign') return own('presign');
  if (method === 'POST' && path === '/confirm') return own('confirm');
  if (method === 'GET' && path === '/s3/params') {
    return { action: 'presign', companion: true, jsonBody: false, query };
  }
  if (method === 'POST' && path === '/s3/multipart') {
    return { action: 'multipart-create', companion: true, jsonBody: true, query };
  }
  const m = /^\/s3\/multipart\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  let uploadId: string;
  let tail: string | undefined;
  try {
    uploadId = decodeURIComponent(m[1]!);
    tail = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  } catch {
    return undefined;
  }
  const route = (action: DirectUploadAction, jsonBody = false, partNumber?: string): Route => ({
    action,
    companion: true,
    jsonBody,
    query,
    uploadId,
    ...(partNumber === undefined ? {} : { partNumber }),
  });
  if (method === 'GET' && tail === undefined) return route('multipart-list');
  if (method === 'DELETE' && tail === undefined) return route('multipart-abort');
  if (method === 'POST' && tail === 'complete') return route('multipart-complete', true);
  if (method === 'GET' && tail === 'batch') return route('multipart-sign');
  if (method === 'GET' && tail !== undefined) return route('multipart-sign', false, tail);
  return undefined;
}
