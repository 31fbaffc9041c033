import { request as httpRequest, type IncomingMessage } from 'node:http';

/** Raw multipart requests to POST /upload on 127.0.0.1, for aborts and malformed bodies supertest cannot send. */

function multipartRequest(
  port: number,
  boundary: string,
  length: number,
  onResponse?: (res: IncomingMessage) => void,
) {
  return httpRequest(
    {
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/upload',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(length),
      },
    },
    onResponse,
  );
}

/** Sends the first `offset` bytes of a multipart body, then drops the connection. */
export function abortAfter(port: number, boundary: string, body: Buffer, offset: number): Promise<void> {
  return new Promise((resolve) => {
    const req = multipartRequest(port, boundary, body.length);
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    req.write(body.subarray(0, offset), () => req.destroy());
  });
}

/** Sends the whole body; resolves with the status and text (status 0 when the server cut the connection). */
export function postMultipart(
  port: number,
  boundary: string,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = multipartRequest(port, boundary, body.length, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end(body);
  });
}
