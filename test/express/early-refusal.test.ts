import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { directUpload } from '../../src/express/direct-upload/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { upload } from '../../src/express/upload/index.js';
import { parseResponse, rawExchange } from '../helpers/raw-http.js';
import { multipartBody, pngBytes } from './upload/fixtures.js';
import { close, listen } from './upload/harness.js';

/*
 * A refused upload is answered while the client is still sending its body. Closing the socket
 * with request bytes unread makes the kernel answer them with a RST: the client's next write
 * fails (EPIPE, ECONNRESET) and a client that reads the answer only once its body is written
 * never reads it. Every refusal must reach a `Connection: close` client whole.
 */

const MiB = 1024 * 1024;
const DRAIN_LIMIT = 8 * MiB;
// Far more than the loopback socket buffers hold, so the client is still writing when the answer goes out.
const BODY_BYTES = 4 * MiB;
// Before the fix, every request of a client reading after its write lost its answer; one reading
// as it writes lost about 1 in 60 under load.
const REPEATS = { whileWriting: 50, afterWriting: 200 };
const BOUNDARY = 'refusalBoundary';

interface Refusal {
  name: string;
  path: string;
  status: number;
  code: string;
  contentType: string;
  body: Buffer;
}

const filler = Buffer.alloc(BODY_BYTES, 0x61);

const REFUSALS: Refusal[] = [
  {
    name: 'wrong content type',
    path: '/upload',
    status: 400,
    code: 'INVALID_ARGUMENT',
    contentType: 'text/plain',
    body: filler,
  },
  {
    name: 'no multipart boundary',
    path: '/upload',
    status: 400,
    code: 'INVALID_ARGUMENT',
    contentType: 'multipart/form-data; charset=utf-8',
    body: filler,
  },
  {
    name: 'too many files',
    path: '/upload',
    status: 413,
    code: 'TOO_LARGE',
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    body: multipartBody(BOUNDARY, [
      { name: 'a', filename: 'a.png', data: pngBytes() },
      { name: 'b', filename: 'b.png', data: pngBytes() },
      { name: 'c', filename: 'c.bin', data: filler },
    ]),
  },
  {
    name: 'huge part header',
    path: '/upload',
    status: 400,
    code: 'INVALID_ARGUMENT',
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    body: Buffer.concat([
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="${'x'.repeat(20_000)}"\r\n`,
      ),
      filler,
    ]),
  },
  {
    name: 'file over maxFileSize',
    path: '/upload',
    status: 413,
    code: 'TOO_LARGE',
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    body: multipartBody(BOUNDARY, [{ name: 'f', filename: 'big.bin', data: filler }]),
  },
];

// directUpload() refuses before reading its JSON body too.
const DIRECT_REFUSALS: Refusal[] = [
  {
    name: 'directUpload presign without JSON',
    path: '/direct/presign',
    status: 400,
    code: 'INVALID_ARGUMENT',
    contentType: 'text/plain',
    body: filler,
  },
  {
    name: 'directUpload confirm with a JSON body over maxJsonBytes',
    path: '/direct/confirm',
    status: 413,
    code: 'TOO_LARGE',
    contentType: 'application/json',
    body: Buffer.concat([Buffer.from('{"uploadKey":"'), filler, Buffer.from('"}')]),
  },
];

function requestHead(
  path: string,
  contentType: string,
  length: number | 'chunked',
  connection = 'close',
): string {
  const framing = length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`;
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: ${connection}\r\nContent-Type: ${contentType}\r\n${framing}\r\n\r\n`;
}

describe('refusing a request whose body is still arriving (upload(), directUpload())', () => {
  let server: Server;
  let port: number;
  const storage = new MemoryStorage();
  /** Bytes the server read from each connection, by client port, once it closed. */
  const serverRead = new Map<number, Promise<number>>();

  beforeAll(async () => {
    const app = express();
    app.get('/ping', (_req, res) => {
      res.send('pong');
    });
    app.post(
      '/upload',
      upload(storage, { maxFiles: 1, maxFileSize: 1024, drainLimit: DRAIN_LIMIT }),
      (_req, res) => {
        res.send('unreachable');
      },
    );
    app.use('/direct', directUpload(storage, { authorize: () => true }));
    app.use(errorHandler({ log: false }));
    ({ server, port } = await listen(app));
    server.on('connection', (socket: Socket) => {
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(socket.bytesRead)));
      serverRead.set(socket.remotePort!, closed);
    });
  });
  afterAll(async () => {
    await close(server);
  });

  for (const [mode, readAfterWrite, repeats] of [
    ['reading while it writes', false, REPEATS.whileWriting],
    ['reading once its body is written', true, REPEATS.afterWriting],
  ] as const)
    for (const refusal of [...REFUSALS, ...DIRECT_REFUSALS]) {
      it(`delivers every answer to a Connection: close client ${mode}: ${refusal.name}`, async () => {
        const head = requestHead(refusal.path, refusal.contentType, refusal.body.length);
        const lost: string[] = [];
        // A few connections at a time, as a browser or a load balancer would open them.
        const lanes = 4;
        await Promise.all(
          Array.from({ length: lanes }, async () => {
            for (let i = 0; i < repeats / lanes; i++) {
              const exchange = await rawExchange(port, head, refusal.body, { readAfterWrite });
              const response = parseResponse(exchange.received);
              const answered =
                response?.status === refusal.status &&
                response.complete &&
                JSON.parse(response.body.toString()).error.code === refusal.code;
              if (!answered)
                lost.push(`${exchange.error ?? 'closed'} after ${exchange.received.length} bytes`);
            }
          }),
        );
        expect(lost).toEqual([]);
        expect(storage.size).toBe(0);
      });
    }

  it('reads at most drainLimit more bytes from a client that never stops, then closes the connection', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const exchange = await rawExchange(port, requestHead('/upload', 'text/plain', 'chunked'), () =>
      Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
    );
    // The server cut the connection having read the bound, plus what was in flight (a socket
    // read and the request's stream buffer), though the client never stopped sending.
    const read = await serverRead.get(exchange.localPort!);
    expect(read).toBeGreaterThan(DRAIN_LIMIT);
    expect(read).toBeLessThan(DRAIN_LIMIT + 2 * MiB);
    // The answer went out at once, before the cut.
    expect(parseResponse(exchange.received)?.status).toBe(400);
  });

  it('keeps a keep-alive connection usable after a refusal within drainLimit', async () => {
    const refused = REFUSALS[0]!;
    const next = 'GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    const exchange = await rawExchange(
      port,
      requestHead(refused.path, refused.contentType, refused.body.length, 'keep-alive'),
      Buffer.concat([refused.body, Buffer.from(next)]),
      { readAfterWrite: true },
    );
    const text = exchange.received.toString('latin1');
    expect(text.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(text.endsWith('\r\n\r\npong')).toBe(true);
  });
});
