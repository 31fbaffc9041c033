import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { upload } from '../../src/express/upload/index.js';
import { multipartBody } from './upload/fixtures.js';
import { close, listen } from './upload/harness.js';

/*
 * upload() refuses too large a request while the client is still sending it: at once when the
 * declared Content-Length is more than any request within the limits, else when the file passes
 * maxFileSize. Either way the client must read the 413 JSON, not a reset: within drainLimit the
 * rest of the body is read and dropped, past it the connection closes once the answer is out.
 * early-refusal.test.ts proves it with a raw socket client; this is curl and Node's fetch (undici).
 */

const run = promisify(execFile);
const MiB = 1024 * 1024;
const DRAIN_LIMIT = 8 * MiB;
// Within drainLimit, and four times past it.
const SIZES = [4 * MiB, 32 * MiB];
const DECLARED = /^the request is \d+ bytes long, more than any upload within the limits/;
const GREW = /^file in field "file" is larger than 1048576 bytes$/;

interface Answer {
  status: number;
  body: string;
}

describe('a refused upload reaches curl and undici (fetch) while they send a large body', () => {
  let server: Server;
  let port: number;
  let dir: string;
  const storage = new MemoryStorage();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-refusal-'));
    const app = express();
    app.post(
      '/upload',
      upload(storage, { maxFiles: 1, maxFields: 0, maxFileSize: MiB, drainLimit: DRAIN_LIMIT }),
      (_req, res) => {
        res.send('unreachable');
      },
    );
    app.use(errorHandler({ log: false }));
    ({ server, port } = await listen(app));
  });
  afterAll(async () => {
    await close(server);
    await rm(dir, { recursive: true, force: true });
  });

  async function curl(size: number, chunked: boolean): Promise<Answer> {
    const path = join(dir, `big-${size}.bin`);
    await writeFile(path, Buffer.alloc(size, 0x61));
    const framing = chunked ? ['-H', 'Transfer-Encoding: chunked'] : [];
    // A failed exchange (reset, broken pipe) makes curl exit non-zero and rejects here.
    const { stdout } = await run('curl', [
      '-sS',
      ...framing,
      '-w',
      '\n%{http_code}',
      '-F',
      `file=@${path}`,
      `http://127.0.0.1:${port}/upload`,
    ]);
    const cut = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
  }

  async function undici(size: number, chunked: boolean): Promise<Answer> {
    const body = multipartBody('b0und', [
      { name: 'file', filename: 'big.bin', data: Buffer.alloc(size, 0x61) },
    ]);
    const res = await fetch(`http://127.0.0.1:${port}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b0und' },
      // A stream has no length: undici sends it chunked.
      ...(chunked
        ? { body: new Blob([body]).stream(), duplex: 'half' as const }
        : { body: new Uint8Array(body) }),
    } as RequestInit);
    return { status: res.status, body: await res.text() };
  }

  for (const [client, send] of [
    ['curl', curl],
    ['undici', undici],
  ] as const)
    for (const size of SIZES)
      for (const [framing, chunked, message] of [
        ['a Content-Length over the limits (refused before reading)', false, DECLARED],
        ['chunked (refused once the file passes maxFileSize)', true, GREW],
      ] as const)
        it(`${client}, ${size / MiB} MiB, ${framing}: 413 JSON`, async () => {
          const answer = await send(size, chunked);
          expect(answer.status).toBe(413);
          const { error } = JSON.parse(answer.body) as { error: { code: string; message: string } };
          expect(error.code).toBe('TOO_LARGE');
          expect(error.message).toMatch(message);
          expect(storage.size).toBe(0);
        });
});
