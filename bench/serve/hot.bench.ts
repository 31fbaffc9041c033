/**
 * Hot 10 KB object: requests per second through serve() (memory tier) vs
 * express.static serving the same file from local disk, same process, same
 * run, measured with wrk (apt-get install -y wrk). Then the cold path:
 * first-request latency through serve() against a direct GetObject, both on
 * the loopback S3 server.
 *
 *   npx vitest run -c bench/serve/vitest.config.ts
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=64 BENCH_ROUNDS=3 npx vitest run -c bench/serve/vitest.config.ts
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { test } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { S3Storage } from '../../adapters/s3/index.js';
import { serve } from '../../src/express/serve/index.js';
import { startS3Server } from '../../test/servers/s3-server.js';
import { reportFigure } from '../lib/report.js';
import { timed, which } from '../loader/tools.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COLD_KEYS = Number(process.env.BENCH_COLD_KEYS ?? 50);

interface WrkRun {
  rps: number;
  /** Server CPU time per request (µs): steadier than req/s on a shared machine. */
  cpuUsPerRequest: number;
}

function wrk(url: string): Promise<WrkRun> {
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', url],
      { encoding: 'utf8' },
      (err, stdout) => {
        if (err) return reject(err);
        const cpu = process.cpuUsage(cpuBefore);
        const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
        const total = /(\d+) requests in/.exec(stdout);
        if (!rps || !total || /Non-2xx/.test(stdout))
          return reject(new Error(`wrk output not usable:\n${stdout}`));
        resolve({ rps: Number(rps[1]), cpuUsPerRequest: (cpu.user + cpu.system) / Number(total[1]) });
      },
    );
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test('serve() hot object vs express.static', async () => {
  if (!which('wrk')) {
    console.log('skipped: wrk is not installed (apt-get install -y wrk)');
    return;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'stowage-bench-serve-'));
  const root = join(scratch, 'store');
  const storage = new LocalStorage({ root });
  await storage.put('hot/object.bin', Buffer.alloc(10 * 1024, 0x61), {
    contentType: 'application/octet-stream',
  });
  const handler = serve(storage, { disk: { dir: join(scratch, 'cache') } });
  const app = express();
  app.use('/files', handler);
  app.use('/static', express.static(root));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // Warm both paths (fills the memory tier; warms the page cache for static).
    for (const path of ['/files/hot/object.bin', '/static/hot/object.bin']) {
      const res = await fetch(base + path);
      if (res.status !== 200 || (await res.arrayBuffer()).byteLength !== 10 * 1024)
        throw new Error(`${path} not served`);
    }
    const staticRuns: WrkRun[] = [];
    const serveRuns: WrkRun[] = [];
    // Alternate so drift on a shared machine hits both sides alike.
    for (let round = 0; round < ROUNDS; round++) {
      staticRuns.push(await wrk(`${base}/static/hot/object.bin`));
      serveRuns.push(await wrk(`${base}/files/hot/object.bin`));
    }
    const rps = (runs: WrkRun[]) => median(runs.map((r) => r.rps));
    const cpu = (runs: WrkRun[]) => median(runs.map((r) => r.cpuUsPerRequest));
    const list = (runs: WrkRun[]) => runs.map((r) => r.rps.toFixed(0)).join(', ');
    console.log(
      [
        `hot 10 KB object, wrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} alternating rounds (median)`,
        `  express.static : ${rps(staticRuns).toFixed(0)} req/s [${list(staticRuns)}], ${cpu(staticRuns).toFixed(0)} µs CPU/request`,
        `  serve() memory : ${rps(serveRuns).toFixed(0)} req/s [${list(serveRuns)}], ${cpu(serveRuns).toFixed(0)} µs CPU/request`,
        `  ratio serve/static: ${(rps(serveRuns) / rps(staticRuns)).toFixed(2)}x req/s, ${(cpu(staticRuns) / cpu(serveRuns)).toFixed(2)}x requests per CPU-second (goal >= 1.0x)`,
      ].join('\n'),
    );
    await reportFigure({
      duration: DURATION,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      serve: { rps: rps(serveRuns), cpuUsPerRequest: cpu(serveRuns), runs: serveRuns },
      static: { rps: rps(staticRuns), cpuUsPerRequest: cpu(staticRuns), runs: staticRuns },
    });
  } finally {
    server.closeAllConnections();
    server.close();
    await handler.close();
    await rm(scratch, { recursive: true, force: true });
  }
});

test('cold path: first request through serve() vs a direct GetObject (S3 test server)', async () => {
  const s3 = await startS3Server();
  const storage = new S3Storage({
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const scratch = await mkdtemp(join(tmpdir(), 'stowage-bench-cold-'));
  const handler = serve(storage, { disk: { dir: scratch } });
  const app = express();
  app.use('/files', handler);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const body = Buffer.alloc(10 * 1024, 0x62);
    for (let i = 0; i < COLD_KEYS; i++) {
      await storage.put(`cold/direct-${i}.bin`, body);
      await storage.put(`cold/serve-${i}.bin`, body);
    }
    const direct: number[] = [];
    const viaServe: number[] = [];
    for (let i = 0; i < COLD_KEYS; i++) {
      direct.push(
        (
          await timed(async () => {
            const { body: stream } = await storage.get(`cold/direct-${i}.bin`);
            for await (const _ of stream) {
              // drain
            }
          })
        ).ms,
      );
      viaServe.push(
        (await timed(async () => (await fetch(`${base}/files/cold/serve-${i}.bin`)).arrayBuffer())).ms,
      );
    }
    console.log(
      [
        `cold 10 KB object, ${COLD_KEYS} distinct keys each (median latency)`,
        `  direct GetObject (SDK)          : ${median(direct).toFixed(2)} ms`,
        `  serve() miss (GetObject + HTTP) : ${median(viaServe).toFixed(2)} ms`,
      ].join('\n'),
    );
  } finally {
    server.closeAllConnections();
    server.close();
    await handler.close();
    await s3.stop();
    await rm(scratch, { recursive: true, force: true });
  }
});
