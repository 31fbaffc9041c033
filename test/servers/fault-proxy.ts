import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What to do to one response. Offsets count body bytes of that response. */
export interface ResponseFault {
  /** Destroy the connection after this many body bytes. */
  resetAfter?: number;
  /** Send this many body bytes, then nothing more (the client must give up). */
  stallAfter?: number;
}

export interface FaultRules {
  /** Called for every proxied response (n counts from 1); return a fault or undefined. */
  fault?: (n: number, req: http.IncomingMessage) => ResponseFault | undefined;
  /** Flip (xor 0xff) the byte at this absolute object offset in every response that carries it. */
  flipByteAt?: number;
  /** Answer the next `count` requests with this status, without asking upstream. */
  failNext?: { status: number; count: number };
  /** Strip Range and If-Range, like a server or CDN that ignores them. */
  ignoreRange?: boolean;
  /** Pause this many ms after every chunk (a slow link). */
  chunkDelayMs?: number;
}

export interface ProxyStats {
  requests: number;
  /** Body bytes sent to clients. */
  bytes: number;
  statuses: number[];
}

export interface FaultProxy {
  url: string;
  rules: FaultRules;
  stats: ProxyStats;
  resetStats(): void;
  stop(): Promise<void>;
}

/** A fault-injecting HTTP proxy in front of `upstream` (an http://host:port base). */
export async function startFaultProxy(upstream: string, rules: FaultRules = {}): Promise<FaultProxy> {
  const stats: ProxyStats = { requests: 0, bytes: 0, statuses: [] };
  const target = new URL(upstream);
  let responses = 0;
  const proxy: FaultProxy = {
    url: '',
    rules,
    stats,
    resetStats() {
      stats.requests = 0;
      stats.bytes = 0;
      stats.statuses = [];
      responses = 0;
    },
    stop: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    stats.requests++;
    const fail = proxy.rules.failNext;
    if (fail && fail.count > 0) {
      fail.count--;
      stats.statuses.push(fail.status);
      res.writeHead(fail.status, { 'Retry-After': '0' }).end('injected failure');
      return;
    }
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
    if (proxy.rules.ignoreRange) {
      delete headers.range;
      delete headers['if-range'];
    }
    const up = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        stats.statuses.push(status);
        res.writeHead(status, upRes.headers);
        const fault = proxy.rules.fault?.(++responses, req);
        const base = Number(/^bytes (\d+)-/.exec(String(upRes.headers['content-range'] ?? ''))?.[1] ?? 0);
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          let out = chunk;
          const flip = proxy.rules.flipByteAt;
          if (flip !== undefined && flip >= base + sent && flip < base + sent + out.length) {
            out = Buffer.from(out);
            const i = flip - base - sent;
            out[i] = (out[i] as number) ^ 0xff;
          }
          const limit = fault?.resetAfter ?? fault?.stallAfter;
          if (limit !== undefined && sent + out.length >= limit) {
            const head = out.subarray(0, Math.max(0, limit - sent));
            if (head.length) res.write(head);
            stats.bytes += head.length;
            sent += head.length;
            upRes.destroy();
            if (fault?.resetAfter !== undefined) res.socket?.destroy();
            // A stall keeps the client socket open and silent until the client gives up.
            return;
          }
          res.write(out);
          stats.bytes += out.length;
          sent += out.length;
          const delay = proxy.rules.chunkDelayMs;
          if (delay) {
            upRes.pause();
            setTimeout(() => upRes.resume(), delay);
          }
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => undefined);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
