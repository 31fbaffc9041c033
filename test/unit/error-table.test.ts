import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { ERROR_CODES, type ErrorCode, StowageError } from '../../src/core/errors.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { serve } from '../../src/express/serve/index.js';
import { setLogger } from '../../src/util/log.js';

interface Row {
  status: number;
  retryable: boolean;
  exit: number;
}

/** The error table of README.md's "The Storage contract", parsed. */
async function readmeTable(): Promise<Map<string, Row>> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| code | status | retryable | CLI exit | when |');
  expect(start, 'the README error table').toBeGreaterThan(0);
  const rows = new Map<string, Row>();
  for (const line of readme.slice(start).split('\n').slice(2)) {
    const cells = line
      .trim()
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length !== 5) break;
    const [code, status, retryable, exit] = cells as [string, string, string, string];
    expect(retryable, `${code} retryable`).toMatch(/^(yes|no)$/);
    rows.set(code.replaceAll('`', ''), {
      status: Number(status),
      retryable: retryable === 'yes',
      exit: Number(exit),
    });
  }
  return rows;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let table: Map<string, Row>;
let app: Server;
let served: Server;
let appUrl: string;
let servedUrl: string;

beforeAll(async () => {
  setLogger({ info: () => undefined, warn: () => undefined });
  table = await readmeTable();
  const e = express();
  e.get('/fail/:code', (req) => {
    throw new StowageError(req.params.code as ErrorCode, `failed with ${req.params.code}`);
  });
  e.use(errorHandler());
  app = createServer(e);
  appUrl = await listen(app);
  // serve() on a store whose every read fails with the code named by the key.
  const memory = new MemoryStorage();
  memory.head = async (key) => {
    throw new StowageError(key as ErrorCode, `failed with ${key}`);
  };
  const handler = serve(memory, { memory: false, disk: false });
  served = createServer((req, res) => handler(req, res, () => res.end('next')));
  servedUrl = await listen(served);
});
afterAll(async () => {
  app.close();
  served.close();
  setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
});

describe("README's error table", () => {
  it('lists every code, and only those', () => {
    expect([...table.keys()]).toEqual([...ERROR_CODES]);
  });

  it.each(ERROR_CODES)('%s: status, retryable and CLI exit code as the table says', (code) => {
    const row = table.get(code)!;
    const err = new StowageError(code, 'x');
    expect(err.status).toBe(row.status);
    expect(err.retryable).toBe(row.retryable);
    expect(exitCodeFor(err)).toBe(row.exit);
  });

  it.each(ERROR_CODES)(
    '%s: errorHandler() and serve() answer its status, Retry-After when retryable',
    async (code) => {
      const row = table.get(code)!;
      for (const url of [`${appUrl}/fail/${code}`, `${servedUrl}/${code}`]) {
        const res = await fetch(url);
        expect(res.status, url).toBe(row.status);
        expect(await res.json(), url).toEqual({ error: { code, message: `failed with ${code}` } });
        expect(res.headers.get('retry-after'), url).toBe(row.retryable ? '5' : null);
        expect(res.headers.get('cache-control'), url).toBe('no-store');
      }
    },
  );
});
