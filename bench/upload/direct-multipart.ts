/**
 * A browser-style multipart upload through directUpload()'s signing endpoints against `aws s3 cp`
 * of the same file to the same S3 test server (s3rver child), alternating, medians reported.
 * Three processes on the direct side, each measured on its own: the app ("dyno",
 * direct-multipart-server.mjs) that only signs, the client (direct-multipart-client.mjs, what
 * @uppy/aws-s3 does) that sends the bytes straight to the store, and the store. The dyno's CPU
 * time and peak RSS should stay near idle: the bytes never pass through it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Storage } from '../../adapters/s3/index.js';
import { startS3Server } from '../../test/servers/s3-server.js';
import { processCpuMs } from '../lib/cpu.js';
import { currentRssMB, peakRssMB, runMeasured } from '../lib/rss.js';
import { alternate } from '../lib/stats.js';

/** Parts in flight: @uppy/aws-s3's default `limit` (the browser's HTTP/1.1 connections per origin). */
const PARALLEL = 6;

export interface DirectRun {
  /** Create → parts → list → complete, as the client timed it. */
  uploadMs: number;
  /** POST /confirm (server-side copies of the staged object on the store, a ranged read for the type). */
  confirmMs: number;
  parts: number;
  partSize: number;
  appCpuUploadMs: number;
  appCpuConfirmMs: number;
  s3CpuUploadMs: number;
  s3CpuConfirmMs: number;
  /** The client's whole process (Node start included). */
  clientCpuMs: number;
  clientPeakRssMB: number;
}

export interface AwsRun {
  /** Wall time of the command, Python start included. */
  ms: number;
  cpuMs: number;
  peakRssMB: number;
  s3CpuMs: number;
}

export interface DirectMultipartFigure {
  sizeMB: number;
  runs: number;
  parallel: number;
  direct: DirectRun[];
  aws: AwsRun[];
  /** The app process: resident once listening, and its peak (VmHWM) after every run. */
  appRestRssMB: number;
  appPeakRssMB: number;
  /** The S3 server's peak over the whole figure (both sides). */
  s3PeakRssMB: number;
}

interface Child {
  child: ChildProcess;
  lines: AsyncIterator<string>;
}

function start(script: string, env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [script], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines };
}

/** The child's next stdout line as JSON; an exit before it is an error. */
async function nextJson<T>({ child, lines }: Child, what: string): Promise<T> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}`))),
  );
  exited.catch(() => undefined); // only the race reads it; a later exit is no error
  const { value, done } = await Promise.race([lines.next(), exited]);
  if (done) throw new Error(`${what} ended without an answer`);
  return JSON.parse(value) as T;
}

export async function directMultipartFigure(opts: {
  file: string;
  sizeMB: number;
  runs: number;
  stowageDist: string;
  workDir: string;
}): Promise<DirectMultipartFigure> {
  const here = import.meta.dirname;
  const s3 = await startS3Server({ bucket: 'bench-direct' });
  const store = new S3Storage({
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const s3Cpu = () => processCpuMs(s3.pid);
  let app: Child | undefined;
  try {
    app = start(join(here, 'direct-multipart-server.mjs'), {
      PATH: process.env.PATH,
      STOWAGE_DIST: opts.stowageDist,
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_KEY: s3.accessKeyId,
      S3_SECRET: s3.secretAccessKey,
    });
    const { port } = await nextJson<{ port: number }>(app, 'direct-multipart-server.mjs');
    const appPid = app.child.pid ?? -1;
    const appRestRssMB = currentRssMB(appPid) ?? Number.NaN;
    const appCpu = () => processCpuMs(appPid);

    // The same part size and concurrency as the browser-style side; nothing inherited from the shell.
    let awsConfig: string | undefined;
    const awsEnv = async (partSize: number) => {
      if (!partSize) throw new Error('the browser-style side runs first and sets the part size');
      awsConfig ??= join(opts.workDir, 'aws-direct-config');
      await writeFile(
        awsConfig,
        `[default]\nregion = ${s3.region}\nrequest_checksum_calculation = when_required\n` +
          `response_checksum_validation = when_required\ns3 =\n  addressing_style = path\n` +
          `  multipart_chunksize = ${partSize / 1024 / 1024}MB\n  max_concurrent_requests = ${PARALLEL}\n`,
      );
      return {
        PATH: process.env.PATH,
        HOME: opts.workDir,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_DEFAULT_REGION: s3.region,
        AWS_CONFIG_FILE: awsConfig,
        AWS_SHARED_CREDENTIALS_FILE: join(opts.workDir, 'none'),
      };
    };
    let partSize = 0;

    const samples = await alternate<DirectRun | AwsRun>(opts.runs, {
      direct: async (): Promise<DirectRun> => {
        const app0 = appCpu();
        const s30 = s3Cpu();
        const client = start(join(here, 'direct-multipart-client.mjs'), {
          PATH: process.env.PATH,
          APP: `http://127.0.0.1:${port}/direct`,
          FILE: opts.file,
          PARALLEL: String(PARALLEL),
        });
        try {
          await nextJson(client, 'direct-multipart-client.mjs (upload)');
          const app1 = appCpu();
          const s31 = s3Cpu();
          client.child.stdin?.write('confirm\n');
          const out = await nextJson<{
            key: string;
            parts: number;
            partSize: number;
            uploadMs: number;
            confirmMs: number;
            cpuMs: number;
            peakRssMB: number;
          }>(client, 'direct-multipart-client.mjs (confirm)');
          const run: DirectRun = {
            uploadMs: out.uploadMs,
            confirmMs: out.confirmMs,
            parts: out.parts,
            partSize: out.partSize,
            appCpuUploadMs: app1 - app0,
            appCpuConfirmMs: appCpu() - app1,
            s3CpuUploadMs: s31 - s30,
            s3CpuConfirmMs: s3Cpu() - s31,
            clientCpuMs: out.cpuMs,
            clientPeakRssMB: out.peakRssMB,
          };
          partSize = out.partSize;
          const { size } = await store.head(out.key);
          if (size !== opts.sizeMB * 1024 * 1024)
            throw new Error(`stored ${size} bytes, expected ${opts.sizeMB} MiB`);
          await store.delete(out.key);
          return run;
        } finally {
          client.child.kill();
        }
      },
      aws: async (): Promise<AwsRun> => {
        const s30 = s3Cpu();
        const target = `s3://${s3.bucket}/aws/bench.bin`;
        const ran = await runMeasured(
          'aws',
          ['--endpoint-url', s3.endpoint, 's3', 'cp', '--only-show-errors', opts.file, target],
          await awsEnv(partSize),
        );
        const run: AwsRun = { ms: ran.ms, cpuMs: ran.cpuMs, peakRssMB: ran.rssMB, s3CpuMs: s3Cpu() - s30 };
        const { size } = await store.head('aws/bench.bin');
        if (size !== opts.sizeMB * 1024 * 1024)
          throw new Error(`aws stored ${size} bytes, expected ${opts.sizeMB} MiB`);
        await store.delete('aws/bench.bin');
        return run;
      },
    });
    return {
      sizeMB: opts.sizeMB,
      runs: opts.runs,
      parallel: PARALLEL,
      direct: samples.direct as DirectRun[],
      aws: samples.aws as AwsRun[],
      appRestRssMB,
      appPeakRssMB: peakRssMB(appPid) ?? Number.NaN,
      s3PeakRssMB: peakRssMB(s3.pid) ?? Number.NaN,
    };
  } finally {
    app?.child.kill();
    await s3.stop();
  }
}
