/**
 * Put and get of one large object through S3Storage against `aws s3 cp`, both
 * on the same loopback s3rver, runs alternating, medians reported, with peak
 * RSS: S3Storage's as growth of this process over its baseline while the
 * operation runs, aws-cli's from /usr/bin/time. Goal: ≥ 1.0× aws-cli
 * throughput, RSS bounded by partSize × (queueSize + 1).
 *
 *   BENCH_S3_MB=1024 BENCH_RUNS=3 npx vitest run -c bench/s3/vitest.config.ts
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { digestFile } from '../../src/core/integrity.js';
import { startS3Server } from '../../test/servers/s3-server.js';
import { processCpuMs } from '../lib/cpu.js';
import { reportFigure } from '../lib/report.js';

const SIZE_MB = Number(process.env.BENCH_S3_MB ?? 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PART_MB = 8;
const QUEUE = Number(process.env.BENCH_S3_QUEUE ?? 4);
const WORK = process.env.BENCH_DIR ?? join(process.cwd(), 'node_modules', '.cache', 'stowage-bench-s3');
const run = promisify(execFile);

async function makeFile(path: string, mb: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  try {
    for (let done = 0; done < mb; done += 16) {
      const data = randomBytes(Math.min(16, mb - done) * 1024 * 1024);
      hash.update(data);
      await handle.write(data);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

interface Sample {
  ms: number;
  /** Peak RSS growth of this process over its level before the run, MiB. */
  rssMB: number;
  /** Peak growth of JS heap + Buffers (arrayBuffers), MiB: what the adapter itself holds. */
  heldMB?: number;
  /** CPU time the S3 test server spent serving the operation, ms. */
  serverCpuMs?: number;
}

/** Runs fn while sampling memory every 20 ms. RSS alone under-reports: V8 reuses pages freed earlier. */
async function measured(fn: () => Promise<unknown>): Promise<Sample> {
  const held = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = { rss: process.memoryUsage.rss(), held: held() };
  const peak = { ...base };
  const sample = () => {
    peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
    peak.held = Math.max(peak.held, held());
  };
  const timer = setInterval(sample, 20);
  const start = process.hrtime.bigint();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  sample();
  const MiB = 1024 * 1024;
  return {
    ms: Number(process.hrtime.bigint() - start) / 1e6,
    rssMB: (peak.rss - base.rss) / MiB,
    heldMB: (peak.held - base.held) / MiB,
  };
}

/** Runs the aws CLI under /usr/bin/time; returns ms and its peak RSS in MiB. */
async function awsTimed(args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const start = process.hrtime.bigint();
  const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss=%M', 'aws', ...args], {
    env,
    maxBuffer: 1 << 22,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const kb = Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? 0);
  return { ms, rssMB: kb / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

test('S3Storage vs aws s3 cp, put and get', async () => {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const source = join(WORK, 'source.bin');
  const sha = await makeFile(source, SIZE_MB);
  const server = await startS3Server({ bucket: 'bench' });
  const config = join(WORK, 'aws-config');
  await writeFile(
    config,
    `[default]\nregion = us-east-1\nrequest_checksum_calculation = when_required\nresponse_checksum_validation = when_required\ns3 =\n  addressing_style = path\n  multipart_chunksize = ${PART_MB}MB\n  max_concurrent_requests = 10\n`,
  );
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: WORK,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(WORK, 'none'),
  };
  const storage = new S3Storage({
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    partSize: PART_MB * 1024 * 1024,
    queueSize: QUEUE,
  });
  const t: Record<string, Sample[]> = { sPut: [], aPut: [], sGet: [], aGet: [] };
  // s3rver does its work (MD5 of every part, then of the whole object) on one thread: its CPU
  // time per operation shows when the server, not the client, sets the pace.
  const onServer = async (op: () => Promise<Sample>): Promise<Sample> => {
    const before = processCpuMs(server.pid);
    const sample = await op();
    return { ...sample, serverCpuMs: processCpuMs(server.pid) - before };
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      t.sPut!.push(
        await onServer(() => measured(() => storage.put('stowage.bin', createReadStream(source)))),
      );
      t.aPut!.push(
        await onServer(() =>
          awsTimed(
            ['--endpoint-url', server.endpoint, 's3', 'cp', source, `s3://${server.bucket}/aws.bin`],
            env,
          ),
        ),
      );
      const out = join(WORK, 'out.bin');
      t.sGet!.push(
        await onServer(() =>
          measured(async () => pipeline((await storage.get('stowage.bin')).body, createWriteStream(out))),
        ),
      );
      expect((await digestFile(out)).sha256).toBe(sha);
      t.aGet!.push(
        await onServer(() =>
          awsTimed(
            ['--endpoint-url', server.endpoint, 's3', 'cp', `s3://${server.bucket}/aws.bin`, out],
            env,
          ),
        ),
      );
      expect((await digestFile(out)).sha256).toBe(sha);
    }
  } finally {
    await server.stop();
    await rm(WORK, { recursive: true, force: true });
  }
  const serverSeconds = (xs: Sample[]) =>
    (median(xs.map((x) => x.serverCpuMs ?? Number.NaN)) / 1000).toFixed(1);
  const line = (name: string, s: Sample[], a: Sample[]) => {
    const sm = median(s.map((x) => x.ms));
    const am = median(a.map((x) => x.ms));
    return (
      `${name}: stowage ${(SIZE_MB / (sm / 1000)).toFixed(0)} MB/s (peak RSS +${median(s.map((x) => x.rssMB)).toFixed(0)} MiB, heap+buffers +${median(s.map((x) => x.heldMB ?? 0)).toFixed(0)} MiB), ` +
      `aws-cli ${(SIZE_MB / (am / 1000)).toFixed(0)} MB/s (peak RSS ${median(a.map((x) => x.rssMB)).toFixed(0)} MiB), ` +
      `ratio ${(am / sm).toFixed(2)}×; s3rver CPU ${serverSeconds(s)} s for stowage, ${serverSeconds(a)} s for aws-cli`
    );
  };
  console.log(
    [
      `S3 ${SIZE_MB} MiB, ${RUNS} alternating runs, medians; partSize ${PART_MB} MiB × queue ${QUEUE}`,
      line('put', t.sPut!, t.aPut!),
      line('get', t.sGet!, t.aGet!),
    ].join('\n'),
  );
  const side = (xs: Sample[]) => ({
    ms: median(xs.map((x) => x.ms)),
    rssMB: median(xs.map((x) => x.rssMB)),
    serverCpuMs: median(xs.map((x) => x.serverCpuMs ?? Number.NaN)),
  });
  await reportFigure({
    sizeMB: SIZE_MB,
    runs: RUNS,
    put: { stowage: side(t.sPut!), aws: side(t.aPut!) },
    get: { stowage: side(t.sGet!), aws: side(t.aGet!) },
  });
});
