import type { ServerResponse } from 'node:http';
import { sendError } from '../json-response.js';

const OBJECT_HEADERS = [
  'Content-Type',
  'Content-Length',
  'Content-Range',
  'Content-Disposition',
  'Content-Security-Policy',
  'ETag',
  'Last-Modified',
  'Cache-Control',
  'Accept-Ranges',
];

/** serve()'s error answer: the shared one, once the object's own headers are gone. */
export function respondError(res: ServerResponse, err: unknown, method: string | undefined): void {
  if (res.headersSent) {
    // Mid-body failure: the only honest signal left is a cut connection.
    res.destroy();
    return;
  }
  // Drop only what serve() set for the object; headers from earlier middleware (CORS…) stay.
  for (const name of OBJECT_HEADERS) res.removeHeader(name);
  sendError(res, err, { method, where: 'serve' });
}
