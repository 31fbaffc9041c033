import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface RangeServerStats {
  requests: number;
  /** Requests that carried a Range header. */
  rangeRequests: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface RangeServer {
  /** Base URL, e.g. http://127.0.0.1:PORT (files are at /<relative path>). */
  url: string;
  stats: RangeServerStats;
  resetStats(): void;
  stop(): Promise<void>;
}

/**
 * A small static file server for tests: GET/HEAD, single byte ranges,
 * a strong ETag per file version (size, mtime, inode), Last-Modified,
 * If-Match / If-Unmodified-Since (412) and If-Range. Replacing a file by
 * rename gives it a new ETag, as an object store would.
 */
export async function startHttpRangeServer(root: string): Promise<RangeServer> {
  const stats: RangeServerStats = { requests: 0, rangeRequests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    stats.requests++;
    serve(root, req, res, stats).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    resetStats() {
      stats.requests = 0;
      stats.rangeRequests = 0;
      stats.bytes = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(
  root: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  stats: RangeServerStats,
): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = normalize(join(root, path));
  if (!file.startsWith(root + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405).end();
    return;
  }
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${st.ino.toString(16)}"`;
  const lastModified = st.mtime.toUTCString();
  const ifMatch = req.headers['if-match'];
  const ifUnmodified = req.headers['if-unmodified-since'];
  if (
    (ifMatch && ifMatch !== '*' && !ifMatch.split(/\s*,\s*/).includes(etag)) ||
    (ifUnmodified && Math.floor(st.mtimeMs / 1000) > Date.parse(ifUnmodified) / 1000)
  ) {
    res.writeHead(412, { ETag: etag }).end();
    return;
  }
  const headers: http.OutgoingHttpHeaders = {
    ETag: etag,
    'Last-Modified': lastModified,
    'Accept-Ranges': 'bytes',
    'Content-Type': 'application/octet-stream',
  };
  let range = parseRange(req.headers.range, st.size);
  if (req.headers.range) stats.rangeRequests++;
  const ifRange = req.headers['if-range'];
  if (range && ifRange && ifRange !== etag && ifRange !== lastModified) range = undefined;
  if (range === null) {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` }).end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? st.size - 1;
  const length = st.size === 0 ? 0 : end - start + 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
  headers['Content-Length'] = length;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('data', (chunk) => {
    stats.bytes += chunk.length;
  });
  stream.pipe(res);
  res.on('close', () => stream.destroy());
}

/** undefined: no (usable) Range header; null: unsatisfiable. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}
