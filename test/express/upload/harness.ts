import { once } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Storage } from '../../../src/core/types.js';
import { errorHandler } from '../../../src/express/error-handler.js';
import { type UploadOptions, type UploadOutcome, upload } from '../../../src/express/upload/index.js';

const require = createRequire(import.meta.url);
/** Express 4, installed under the npm alias "express4". */
export const express4 = require('express4') as typeof express;

export const EXPRESS_VERSIONS = [
  ['express 5', express],
  ['express 4', express4],
] as const;

export interface Harness {
  app: express.Express;
  /** Every finished request's outcome, in completion order. */
  outcomes: UploadOutcome[];
  /** Resolves once `count` requests have completed (cleanup included). */
  completed(count: number): Promise<void>;
}

/** An app with upload() at POST /upload answering with req.stowage, and errorHandler(). */
export function uploadApp(
  makeExpress: typeof express,
  storage: Storage,
  options: UploadOptions = {},
): Harness {
  const outcomes: UploadOutcome[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const app = makeExpress();
  app.post(
    '/upload',
    upload(storage, {
      ...options,
      onComplete: (outcome, req) => {
        outcomes.push(outcome);
        options.onComplete?.(outcome, req);
        for (const w of waiters.filter((w) => outcomes.length >= w.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      },
    }),
    (req, res) => {
      res.json({ files: req.stowage?.files, fields: req.stowage?.fields });
    },
  );
  app.use(errorHandler({ log: false }));
  return {
    app,
    outcomes,
    completed: (count) =>
      outcomes.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

export async function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function allKeys(storage: Storage, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys.sort();
}
