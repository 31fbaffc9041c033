/**
 * A loopback HTTP proxy in front of an S3 server that behaves like
 * S3-compatible stores seen in the wild, at the protocol level:
 * - `repeatListToken`: every truncated ListObjectsV2 page after the first
 *   carries the first page's NextContinuationToken again (a store that
 *   loses its place);
 * - `stuckUploadMarker`: every ListMultipartUploads page claims more follow,
 *   after the same markers;
 * - `noDeleteObjects`: DeleteObjects (POST /?delete) is answered with
 *   501 NotImplemented, as by stores without multi-object delete;
 * - `noListMultipartUploads`: ListMultipartUploads (GET /?uploads) is
 *   answered with 501 NotImplemented, as by stores that cannot list them.
 * Everything else is forwarded unchanged; UploadPart sizes are recorded.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QuirkProxyOptions {
  repeatListToken?: boolean;
  noDeleteObjects?: boolean;
  noListMultipartUploads?: boolean;
  /** Every ListMultipartUploads page says "truncated, next marker: stuck". */
  stuckUploadMarker?: boolean;
}

export interface QuirkProxy {
  endpoint: string;
  /** Requests received per S3 operation seen: 'ListObjectsV2', 'DeleteObjects', 'DeleteObject', 'other'. */
  readonly counts: Readonly<Record<string, number>>;
  /** Content-Length of every UploadPart, in the order received. */
  readonly partSizes: readonly number[];
  stop(): Promise<void>;
}

export async function startQuirkProxy(upstream: string, options: QuirkProxyOptions): Promise<QuirkProxy> {
  const target = new URL(upstream);
  const counts: Record<string, number> = {};
  const partSizes: number[] = [];
  let firstToken: string | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const operation = operationOf(req.method ?? '', url);
    counts[operation] = (counts[operation] ?? 0) + 1;
    if (operation === 'UploadPart') partSizes.push(Number(req.headers['content-length']));
    if (
      (operation === 'DeleteObjects' && options.noDeleteObjects) ||
      (operation === 'ListMultipartUploads' && options.noListMultipartUploads)
    ) {
      req.resume();
      req.on('end', () => {
        res.writeHead(501, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header or query you provided implies functionality that is not implemented.</Message></Error>',
        );
      });
      return;
    }
    let rewrite: ((body: string) => string) | undefined;
    if (operation === 'ListObjectsV2' && options.repeatListToken) {
      rewrite = (body) => {
        const token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(body)?.[1];
        if (token === undefined) return body;
        firstToken ??= token;
        return body.replace(token, firstToken);
      };
    }
    if (operation === 'ListMultipartUploads' && options.stuckUploadMarker) {
      rewrite = (body) =>
        body
          .replace(/<IsTruncated>[^<]*<\/IsTruncated>/, '<IsTruncated>true</IsTruncated>')
          .replace(/<Next(KeyMarker|UploadIdMarker)>[^<]*<\/Next\1>|<Next(KeyMarker|UploadIdMarker)\/>/g, '')
          .replace(
            '</ListMultipartUploadsResult>',
            '<NextKeyMarker>stuck</NextKeyMarker><NextUploadIdMarker>stuck</NextUploadIdMarker></ListMultipartUploadsResult>',
          );
    }
    forward(req, res, rewrite);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, rewrite?: (body: string) => string): void => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        if (!rewrite) {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('end', () => {
          const body = Buffer.from(rewrite(Buffer.concat(chunks).toString('utf8')), 'utf8');
          const headers = { ...upstreamRes.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(upstreamRes.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    partSizes,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function operationOf(method: string, url: URL): string {
  if (method === 'GET' && url.searchParams.get('list-type') === '2') return 'ListObjectsV2';
  if (method === 'POST' && url.searchParams.has('delete')) return 'DeleteObjects';
  if (method === 'GET' && url.searchParams.has('uploads')) return 'ListMultipartUploads';
  if (method === 'DELETE' && !url.searchParams.has('uploadId')) return 'DeleteObject';
  if (method === 'PUT' && url.searchParams.has('partNumber')) return 'UploadPart';
  return 'other';
}
