import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { serve } from '../../src/express/serve/index.js';
import { upload } from '../../src/express/upload/index.js';
import { multipartBody } from '../express/upload/fixtures.js';
import { allKeys } from '../express/upload/harness.js';
import { walk } from './files.js';
import { report, scaled, TRIAL_TIMEOUT } from './scale.js';

const UPLOADS = scaled(200, 20);
const REQUESTS = scaled(2_000, 100);
const OBJECTS = 20;
const MiB = 1024 * 1024;
/** Generous: a leak of per-request buffers at these counts would blow far past it. */
const RSS_BOUND = 512 * MiB;

let scratch: string;
let storage: LocalStorage;
let server: Server;
let port: number;
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const objects = Array.from({ length: OBJECTS }, (_, i) => randomBytes(32 * 1024 + i * 1000));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'stowage-chaos-load-'));
  storage = new LocalStorage({ root: join(scratch, 'store') });
  for (const [i, data] of objects.entries()) await storage.put(`assets/${i}.bin`, data);
  const app = express();
  app.post('/upload', upload(storage, { maxFileSize: MiB }), (req, res) => {
    res.json({ files: req.stowage?.files });
  });
  app.use('/files', serve(storage, { disk: { dir: join(scratch, 'cache') } }));
  app.use(errorHandler({ log: false }));
  server = createServer(app);
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 });
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  agent.destroy();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await rm(scratch, { recursive: true, force: true });
});

function send(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Samples RSS while `fn` runs; returns the peak growth over the start. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

describe('chaos: load on loopback', () => {
  it(
    `${UPLOADS} concurrent uploads all succeed, intact, memory bounded`,
    async () => {
      const boundary = 'loadBoundary';
      const payloads = Array.from({ length: UPLOADS }, () => randomBytes(48 * 1024));
      const { value: results, growth } = await peakRssGrowth(() =>
        Promise.all(
          payloads.map((data, i) =>
            send('POST', '/upload', multipartBody(boundary, [{ name: 'f', filename: `f${i}.bin`, data }]), {
              'content-type': `multipart/form-data; boundary=${boundary}`,
            }),
          ),
        ),
      );
      const failures: string[] = [];
      for (const [i, r] of results.entries()) {
        if (r.status !== 200) {
          failures.push(`upload ${i}: ${r.status} ${r.body.toString().slice(0, 100)}`);
          continue;
        }
        const [file] = JSON.parse(r.body.toString()).files as Array<{ key: string; sha256: string }>;
        if (file?.sha256 !== sha(payloads[i] as Buffer)) failures.push(`upload ${i}: wrong sha256`);
      }
      const stored = (await allKeys(storage, 'uploads/')).length;
      const leftovers = (await walk(join(scratch, 'store'))).filter(
        (f) => f.includes('-tmp-') || f.startsWith('.staging'),
      );
      report({
        area: 'load: concurrent uploads (local)',
        trials: UPLOADS,
        failures: failures.length,
        leftovers: leftovers.length,
        note: `peak RSS growth ${(growth / MiB).toFixed(1)} MiB`,
      });
      expect(failures).toEqual([]);
      expect(stored).toBe(UPLOADS);
      expect(leftovers).toEqual([]);
      expect(growth).toBeLessThan(RSS_BOUND);
    },
    TRIAL_TIMEOUT,
  );

  it(
    `${REQUESTS} concurrent serve() requests all succeed with the right bytes, memory bounded`,
    async () => {
      const { value: results, growth } = await peakRssGrowth(() =>
        Promise.all(
          Array.from({ length: REQUESTS }, (_, i) => {
            const n = i % OBJECTS;
            // A quarter ask for a range, to mix 200 and 206.
            const ranged = i % 4 === 0;
            return send(
              'GET',
              `/files/assets/${n}.bin`,
              undefined,
              ranged ? { range: 'bytes=100-1099' } : {},
            ).then(
              (r) => ({ r, n, ranged }),
              (e: Error) => ({ r: { status: -1, body: Buffer.from(e.message) }, n, ranged }),
            );
          }),
        ),
      );
      const failures: string[] = [];
      for (const { r, n, ranged } of results) {
        const want = ranged ? (objects[n] as Buffer).subarray(100, 1100) : (objects[n] as Buffer);
        if (r.status !== (ranged ? 206 : 200) || !r.body.equals(want))
          failures.push(`object ${n}${ranged ? ' (range)' : ''}: ${r.status}`);
      }
      report({
        area: 'load: concurrent serve() requests (local, cache tiers on)',
        trials: REQUESTS,
        failures: failures.length,
        leftovers: 0,
        note: `peak RSS growth ${(growth / MiB).toFixed(1)} MiB`,
      });
      expect(failures).toEqual([]);
      expect(growth).toBeLessThan(RSS_BOUND);
    },
    TRIAL_TIMEOUT,
  );
});
