import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import express from 'express';
import { LocalStorage } from '../../../adapters/local/index.js';
import { MemoryStorage } from '../../../adapters/memory/index.js';
import { S3Storage } from '../../../adapters/s3/index.js';
import type { GetOptions, GetResult, ObjectInfo, Storage, UrlOptions } from '../../../src/core/types.js';
import { type ServeHandler, type ServeOptions, serve } from '../../../src/express/serve/index.js';
import { startS3Server } from '../../servers/s3-server.js';

const require = createRequire(import.meta.url);
/** Express 4, installed under the npm alias "express4". */
export const express4 = require('express4') as typeof express;

export const EXPRESS_VERSIONS = [
  ['express 5', express],
  ['express 4', express4],
] as const;

export interface StorageFixture {
  storage: Storage;
  /** Directory to clean up (the local root's parent, or a scratch dir). */
  scratch: string;
  close(): Promise<void>;
}

export const STORAGE_KINDS = ['local', 'memory', 's3'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** A real adapter: LocalStorage on a temp dir, MemoryStorage, or S3Storage on the loopback S3 server. */
export async function makeStorage(kind: StorageKind): Promise<StorageFixture> {
  const scratch = await mkdtemp(join(tmpdir(), 'stowage-serve-'));
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  if (kind === 's3') {
    const server = await startS3Server();
    const storage = new S3Storage({
      bucket: server.bucket,
      region: server.region,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    return {
      storage,
      scratch,
      close: async () => Promise.all([server.stop(), cleanup()]).then(() => undefined),
    };
  }
  const storage = kind === 'local' ? new LocalStorage({ root: join(scratch, 'store') }) : new MemoryStorage();
  return { storage, scratch, close: cleanup };
}

/** Marker the fall-through route answers with, to prove next() was called. */
export const FELL_THROUGH = 418;

export interface Served {
  app: express.Express;
  handler: ServeHandler;
  server: Server;
  base: string;
  close(): Promise<void>;
}

/** An app with serve() at /files, a teapot after it (fall-through marker), listening on loopback. */
export async function serveApp(
  makeExpress: typeof express,
  storage: Storage,
  options: ServeOptions = {},
): Promise<Served> {
  const app = makeExpress();
  const handler = serve(storage, options);
  app.use('/files', handler);
  app.use((_req, res) => {
    res.status(FELL_THROUGH).send('fell through');
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    handler,
    server,
    base,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await handler.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent byte for byte: no client-side URL normalisation of "..", "%2e" or "\". */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Wraps a Storage and records every origin call: proves single flight and cache hits. */
export class CountingStorage implements Storage {
  readonly name: string;
  readonly capabilities: Storage['capabilities'];
  gets: Array<{ key: string; opts: GetOptions | undefined }> = [];
  heads: string[] = [];
  urls: string[] = [];
  bodies: Readable[] = [];
  /** While set, get() waits for it before touching the origin. */
  gate: Promise<void> | undefined;

  constructor(readonly inner: Storage) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  async get(key: string, opts?: GetOptions): Promise<GetResult> {
    this.gets.push({ key, opts });
    if (this.gate) await this.gate;
    const result = await this.inner.get(key, opts);
    this.bodies.push(result.body);
    return result;
  }
  async head(key: string): Promise<ObjectInfo> {
    this.heads.push(key);
    return this.inner.head(key);
  }
  url(key: string, opts?: UrlOptions): Promise<string> {
    this.urls.push(key);
    return this.inner.url(key, opts);
  }
  put: Storage['put'] = (...args) => this.inner.put(...args);
  exists: Storage['exists'] = (...args) => this.inner.exists(...args);
  delete: Storage['delete'] = (...args) => this.inner.delete(...args);
  list: Storage['list'] = (...args) => this.inner.list(...args);
  copy: Storage['copy'] = (...args) => this.inner.copy(...args);

  reset(): void {
    this.gets = [];
    this.heads = [];
    this.urls = [];
    this.bodies = [];
  }
}
