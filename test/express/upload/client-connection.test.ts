import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientConnection } from '../../../src/express/upload/client-connection.js';

let server: ReturnType<typeof createServer> | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A real server on 127.0.0.1 handing each request to `handle`. */
async function serveWith(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('ClientConnection (the socket side of an upload)', () => {
  it('reports a client that leaves mid-body once, and then cannot be answered', async () => {
    let gone = 0;
    let answerable: boolean | undefined;
    const left = new Promise<void>((resolve) => {
      void serveWith((req, res) => {
        const client = new ClientConnection(req, res);
        client.onGone(() => {
          gone++;
          setImmediate(() => {
            answerable = client.canAnswer();
            resolve();
          });
        });
      }).then((port) => {
        const req = request({
          port,
          host: '127.0.0.1',
          method: 'POST',
          headers: { 'content-length': '100' },
        });
        req.on('error', () => undefined);
        req.write('x'.repeat(10), () => setTimeout(() => req.destroy(), 20));
      });
    });
    await left;
    expect(gone).toBe(1);
    expect(answerable).toBe(false);
  });

  it('bodyEnded waits for the last byte of the body, or for the signal', async () => {
    const events: string[] = [];
    const port = await serveWith((req, res) => {
      const client = new ClientConnection(req, res);
      const stop = new AbortController();
      req.resume();
      void client.bodyEnded(stop.signal).then(() => {
        events.push(`ended complete=${req.complete}`);
        const stopped = new ClientConnection(req, res);
        void stopped.bodyEnded(AbortSignal.abort()).then(() => {
          events.push('aborted signal resolves at once');
          res.end('ok');
        });
      });
    });
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': '6' } });
    req.write('abc');
    setTimeout(() => req.end('def'), 30);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    await once(res, 'end');
    expect(events).toEqual(['ended complete=true', 'aborted signal resolves at once']);
  });
});
