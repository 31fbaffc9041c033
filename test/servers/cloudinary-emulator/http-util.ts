import type { IncomingMessage, ServerResponse } from 'node:http';
import busboy from 'busboy';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { message: err.message } }, err.headers);
}

export interface ParsedForm {
  fields: Record<string, string>;
  /** The `file` part when it was sent as a file; a URL string arrives as a field instead. */
  file: Buffer | undefined;
  filename: string | undefined;
}

/**
 * Reads a multipart or url-encoded body. Resolves only when the whole body
 * arrived: a client that aborts mid-upload rejects, so nothing is stored.
 */
export function readForm(req: IncomingMessage): Promise<ParsedForm> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) {
    return readBody(req).then((buf) => ({
      fields: flattenQuery(new URLSearchParams(buf.toString('utf8'))),
      file: undefined,
      filename: undefined,
    }));
  }
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let filename: string | undefined;
    let sawFile = false;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const bb = busboy({ headers: req.headers, limits: { fieldSize: 10 * 1024 * 1024 } });
    bb.on('field', (name, value) => {
      // Arrays arrive as repeated `name[]` parts; Cloudinary signs them as `name=a,b`.
      if (name.endsWith('[]')) {
        const base = name.slice(0, -2);
        fields[base] = base in fields ? `${fields[base]},${value}` : value;
      } else fields[name] = value;
    });
    bb.on('file', (_name, stream, info) => {
      sawFile = true;
      filename = info.filename;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', fail);
    });
    bb.on('error', fail);
    bb.on('close', () => {
      if (failed) return;
      resolve({ fields, file: sawFile ? Buffer.concat(chunks) : undefined, filename });
    });
    req.on('aborted', () => fail(new Error('client aborted the request')));
    req.on('error', fail);
    req.pipe(bb);
  });
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('aborted', () => reject(new Error('client aborted the request')));
    req.on('error', reject);
  });
}

/** Query params as a flat record; repeated `name[]` keys are joined with "," (what Cloudinary signs). */
export function flattenQuery(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

/** Parses `Range: bytes=…` against a size; undefined means the whole body. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) {
    throw new HttpError(416, 'Range Not Satisfiable', { 'content-range': `bytes */${size}` });
  }
  return { start, end };
}
