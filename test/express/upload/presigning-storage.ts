import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StowageError } from '../../../src/core/errors.js';
import type { DirectUpload, PresignUploadOptions, Storage } from '../../../src/core/types.js';

interface Grant {
  key: string;
  maxSize: number;
  expiresAt: Date;
}

/**
 * Test-only: a Storage that forwards everything to `inner` and implements
 * presignUpload() with a tiny loopback endpoint taking `PUT /put?token=…`,
 * enforcing the granted maxSize the way S3's content-length-range does.
 */
export async function presigningStorage(
  inner: Storage,
): Promise<{ storage: Storage; stop(): Promise<void> }> {
  const grants = new Map<string, Grant>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const grant = grants.get(url.searchParams.get('token') ?? '');
    const answer = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(text);
    };
    if (req.method !== 'PUT' || url.pathname !== '/put' || !grant || grant.expiresAt.getTime() < Date.now()) {
      req.resume();
      answer(403, 'no such grant');
      return;
    }
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > grant.maxSize) {
      req.resume();
      answer(413, 'too large');
      return;
    }
    const contentType = req.headers['content-type'];
    inner
      .put(grant.key, req, { maxSize: grant.maxSize, ...(contentType ? { contentType } : {}) })
      .then(() => answer(200, 'ok'))
      .catch((err: unknown) => answer(err instanceof StowageError ? err.status : 500, 'failed'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'presignUpload') {
        return async (key: string, opts: PresignUploadOptions): Promise<DirectUpload> => {
          const token = randomUUID();
          const expiresAt = new Date(Date.now() + (opts.expiresIn ?? 600) * 1000);
          grants.set(token, { key, maxSize: opts.maxSize, expiresAt });
          return {
            key,
            method: 'PUT',
            url: `${base}/put?token=${token}`,
            fields: {},
            fileField: 'file',
            headers: opts.contentType ? { 'content-type': opts.contentType } : {},
            expiresAt,
          };
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    storage,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
