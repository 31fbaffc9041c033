/**
 * A loopback HTTP proxy in front of an S3 server that answers the first
 * `failures` requests itself with an S3 error (503 SlowDown by default), then
 * forwards everything; requests matching `hold` are never answered (held until
 * the client gives up). Exercises the client's retry and error mapping
 * against real HTTP, without mocking the SDK.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FlakyProxy {
  endpoint: string;
  /** Requests received, failed or forwarded. */
  readonly count: number;
  /** Fail the next `n` requests. */
  failNext(n: number): void;
  /** Never answer requests that match (method, url); undefined stops holding. */
  hold(match: ((method: string, url: string) => boolean) | undefined): void;
  /** Requests held so far. */
  readonly held: number;
  /** Stops holding and delivers every held request (whole) to the upstream server. */
  release(): void;
  stop(): Promise<void>;
}

export async function startFlakyProxy(
  upstream: string,
  options: { status?: number; code?: string; failures?: number } = {},
): Promise<FlakyProxy> {
  const target = new URL(upstream);
  const status = options.status ?? 503;
  const code = options.code ?? 'SlowDown';
  let failures = options.failures ?? 0;
  let count = 0;
  let held = 0;
  let holdMatch: ((method: string, url: string) => boolean) | undefined;
  const server = createServer((req, res) => {
    count++;
    if (holdMatch?.(req.method ?? '', req.url ?? '')) {
      held++;
      // Kept whole, so release() can still deliver it.
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      const deliver = () => forward(req, res, Buffer.concat(body));
      heldRequests.push(() => (req.complete ? deliver() : req.once('end', deliver)));
      return;
    }
    if (failures > 0) {
      failures--;
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/xml', 'retry-after': '1' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>flaky proxy</Message></Error>`,
        );
      });
      return;
    }
    forward(req, res);
  });
  const heldRequests: Array<() => void> = [];
  /** Sends a request on to the upstream server: streamed, or a body read earlier. */
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer): void => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get count() {
      return count;
    },
    failNext(n) {
      failures = n;
    },
    hold(match) {
      holdMatch = match;
    },
    get held() {
      return held;
    },
    release() {
      holdMatch = undefined;
      for (const deliver of heldRequests.splice(0)) deliver();
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
