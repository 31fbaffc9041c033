/**
 * SKELETON, not wired into bench/run.ts yet (issue 19's benchmark): a 1 GiB browser-style
 * multipart upload through directUpload()'s signing endpoints, a Node client doing what
 * @uppy/aws-s3 does (create, sign parts in batches, PUT the parts straight to the store,
 * `parallel` at a time, complete, confirm), against `aws s3 cp` of the same file to the same
 * server. Reports both throughputs and the app process's CPU time and peak RSS during the upload,
 * which should stay near idle: the bytes never pass through it.
 *
 * To finish once the multipart endpoints exist (direct-multipart branch): set ROUTES to their
 * paths and bodies (Companion's shapes are assumed below), then add to bench/run.ts:
 *   await figure('direct multipart (browser-style) vs aws s3 cp', async () => ({
 *     kind: 'direct-multipart', data: await directMultipartFigure({ file, sizeMB, runs, stowageDist: dist }) }));
 * and a renderer in bench/lib/render.ts. Do not run it on a loaded machine.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { startS3Server } from '../../test/servers/s3-server.js';
import { processCpuMs } from '../lib/cpu.js';
import { peakRssMB } from '../lib/rss.js';
import { alternate, mbps, median, timed } from '../lib/stats.js';

const run = promisify(execFile);

/** Where the client talks to directUpload(); assumed Companion-style, to align with the real routes. */
export const ROUTES = {
  create: '/direct/multipart',
  signBatch: (uploadId: string, key: string, parts: number[]) =>
    `/direct/multipart/${encodeURIComponent(uploadId)}/batch?key=${encodeURIComponent(key)}&partNumbers=${parts.join(',')}`,
  complete: (uploadId: string, key: string) =>
    `/direct/multipart/${encodeURIComponent(uploadId)}/complete?key=${encodeURIComponent(key)}`,
  confirm: '/direct/confirm',
};

export interface DirectMultipartFigure {
  sizeMB: number;
  runs: number;
  partMB: number;
  parallel: number;
  direct: { mbps: number; runsMs: number[]; appCpuMs: number[]; appPeakRssMB: number };
  awsCli: { mbps: number; runsMs: number[] };
}

interface App {
  child: ChildProcess;
  base: string;
}

async function startApp(env: NodeJS.ProcessEnv): Promise<App> {
  const script = join(import.meta.dirname, 'direct-multipart-server.mjs');
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before listening`)));
    lines.once('line', (line) => resolve(JSON.parse(line).port));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** What Uppy's multipart mode does, minus the UI: one file, parts of `partBytes`, `parallel` in flight. */
async function browserStyleUpload(
  base: string,
  file: string,
  partBytes: number,
  parallel: number,
): Promise<void> {
  const size = (await stat(file)).size;
  const count = Math.ceil(size / partBytes);
  const { key, uploadId } = await json<{ key: string; uploadId: string }>(`${base}${ROUTES.create}`, {
    method: 'POST',
    body: JSON.stringify({ filename: 'bench.bin', type: 'application/octet-stream', size }),
  });
  const handle = await open(file);
  const etags: string[] = [];
  try {
    let next = 1;
    const lane = async (): Promise<void> => {
      while (next <= count) {
        // Uppy signs in small batches; one part per batch keeps the skeleton simple.
        const n = next++;
        const { presignedUrls } = await json<{ presignedUrls: Record<string, string> }>(
          `${base}${ROUTES.signBatch(uploadId, key, [n])}`,
        );
        const length = Math.min(partBytes, size - (n - 1) * partBytes);
        const body = Buffer.alloc(length);
        await handle.read(body, 0, length, (n - 1) * partBytes);
        const res = await fetch(presignedUrls[String(n)]!, { method: 'PUT', body });
        if (!res.ok) throw new Error(`part ${n}: ${res.status} ${await res.text()}`);
        etags[n - 1] = res.headers.get('etag') ?? '';
      }
    };
    await Promise.all(Array.from({ length: parallel }, lane));
  } finally {
    await handle.close();
  }
  await json(`${base}${ROUTES.complete(uploadId, key)}`, {
    method: 'POST',
    body: JSON.stringify({ parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) }),
  });
  await json(`${base}${ROUTES.confirm}`, { method: 'POST', body: JSON.stringify({ uploadKey: key }) });
}

export async function directMultipartFigure(opts: {
  file: string;
  sizeMB: number;
  runs: number;
  stowageDist: string;
  partMB?: number;
  parallel?: number;
}): Promise<DirectMultipartFigure> {
  const partMB = opts.partMB ?? 16;
  const parallel = opts.parallel ?? 4;
  const s3 = await startS3Server({ bucket: 'bench-direct' });
  const env = {
    PATH: process.env.PATH,
    STOWAGE_DIST: opts.stowageDist,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_KEY: s3.accessKeyId,
    S3_SECRET: s3.secretAccessKey,
  };
  // The aws CLI with the same credentials and nothing inherited from the shell.
  const awsEnv = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const app = await startApp(env);
  const appCpuMs: number[] = [];
  try {
    const samples = await alternate(opts.runs, {
      direct: async () => {
        const before = processCpuMs(app.child.pid ?? -1);
        const { ms } = await timed(() =>
          browserStyleUpload(app.base, opts.file, partMB * 1024 * 1024, parallel),
        );
        appCpuMs.push(processCpuMs(app.child.pid ?? -1) - before);
        return ms;
      },
      awsCli: async () => {
        const { ms } = await timed(() =>
          run(
            'aws',
            ['--endpoint-url', s3.endpoint, 's3', 'cp', opts.file, `s3://${s3.bucket}/aws/bench.bin`],
            { env: awsEnv },
          ),
        );
        return ms;
      },
    });
    const direct = samples.direct ?? [];
    const awsCli = samples.awsCli ?? [];
    return {
      sizeMB: opts.sizeMB,
      runs: opts.runs,
      partMB,
      parallel,
      direct: {
        mbps: mbps(opts.sizeMB, median(direct)),
        runsMs: direct,
        appCpuMs,
        appPeakRssMB: peakRssMB(app.child.pid ?? -1) ?? Number.NaN,
      },
      awsCli: { mbps: mbps(opts.sizeMB, median(awsCli)), runsMs: awsCli },
    };
  } finally {
    app.child.kill();
    await s3.stop();
  }
}
