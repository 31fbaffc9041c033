import { connect } from 'node:net';

/** What a raw HTTP/1.1 client read from one connection, up to EOF or a reset. */
export interface RawExchange {
  /** Every byte the server sent. */
  received: Buffer;
  /** The socket error that ended the exchange (e.g. ECONNRESET), if any. */
  error: string | undefined;
  /** Request body bytes the client managed to hand to its socket. */
  bodyBytesWritten: number;
  /** The client's port: names the connection on the server side. */
  localPort: number | undefined;
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body is exactly as long as its Content-Length says. */
  complete: boolean;
}

export interface RawExchangeOptions {
  /**
   * Read nothing until the whole body is written, as simple clients do (write the request, then
   * read the answer). Such a client sees the answer only if the server lets it finish writing.
   */
  readAfterWrite?: boolean;
}

/**
 * Sends `head` then `body` on a fresh connection, writing as fast as the socket takes it, and reads
 * until the server closes. Like curl or a browser, it never half-closes its side first.
 * `body` may be a function producing chunks forever (a client that never stops, not even when the
 * answer and its EOF arrive): it is called until the server cuts the connection.
 */
export function rawExchange(
  port: number,
  head: string,
  body: Buffer | (() => Buffer),
  options: RawExchangeOptions = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: !Buffer.isBuffer(body) });
    if (options.readAfterWrite) socket.pause();
    const received: Buffer[] = [];
    let error: string | undefined;
    let bodyBytesWritten = 0;
    let localPort: number | undefined;
    socket.once('connect', () => {
      localPort = socket.localPort;
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () =>
      resolve({ received: Buffer.concat(received), error, bodyBytesWritten, localPort }),
    );
    socket.write(head);
    if (Buffer.isBuffer(body)) {
      socket.write(body, (err) => {
        if (err) return;
        bodyBytesWritten = body.length;
        socket.resume();
      });
      return;
    }
    const pump = (): void => {
      while (!socket.destroyed) {
        const chunk = body();
        bodyBytesWritten += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/** Splits a raw HTTP/1.1 response (no chunked encoding) into status, headers and body. */
export function parseResponse(raw: Buffer): ParsedResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '')?.[1];
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = raw.subarray(end + 4);
  const length = Number(headers['content-length']);
  return {
    status: Number(status),
    headers,
    body,
    complete: Number.isInteger(length) && body.length === length,
  };
}
