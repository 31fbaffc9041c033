/**
 * upload() against multer + multer-s3: the same multipart POST of one large
 * file into the S3 test server, each side in its own server process (so its
 * peak RSS, VmHWM, is its own), requests alternating, medians reported.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Storage } from '../../adapters/s3/index.js';
import { startS3Server } from '../../test/servers/s3-server.js';
import { currentRssMB, peakRssMB } from '../lib/rss.js';
import { alternate, mbps, median, timed } from '../lib/stats.js';

export interface UploadSide {
  mbps: number;
  runsMs: number[];
  peakRssMB: number;
  /** Resident set once listening, before any request: what express, the SDK and the library cost at rest. */
  baselineRssMB: number;
}

export interface UploadFigure {
  sizeMB: number;
  runs: number;
  stowage: UploadSide;
  multer: UploadSide;
}

interface Server {
  child: ChildProcess;
  port: number;
  baselineRssMB: number;
}

async function startServer(script: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before listening`)));
    lines.once('line', (line) => resolve(JSON.parse(line).port));
  });
  return { child, port, baselineRssMB: currentRssMB(child.pid ?? -1) ?? Number.NaN };
}

/** Streams `file` as one multipart part named "file"; resolves with the response body when the server answered 200. */
async function post(port: number, file: string): Promise<string> {
  const boundary = `----bench${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = (await stat(file)).size;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/upload',
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + size + tail.length,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(body)
            : reject(new Error(`upload answered ${res.statusCode}: ${body}`)),
        );
      },
    );
    req.on('error', reject);
    req.write(head);
    const source = createReadStream(file);
    source.on('error', reject);
    source.on('end', () => req.end(tail));
    source.pipe(req, { end: false });
  });
}

export async function uploadFigure(opts: {
  file: string;
  sizeMB: number;
  runs: number;
  stowageDist: string;
}): Promise<UploadFigure> {
  const s3 = await startS3Server({ bucket: 'bench-upload' });
  const env = {
    PATH: process.env.PATH,
    STOWAGE_DIST: opts.stowageDist,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_KEY: s3.accessKeyId,
    S3_SECRET: s3.secretAccessKey,
  };
  const here = import.meta.dirname;
  const servers: Server[] = [];
  try {
    const stowage = await startServer(join(here, 'stowage-server.mjs'), env);
    servers.push(stowage);
    const multer = await startServer(join(here, 'multer-server.mjs'), env);
    servers.push(multer);
    // Check what reached the store (multer-s3 reports size 0 for multipart uploads of streams).
    const store = new S3Storage({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const expectSize = async (body: string) => {
      const key = JSON.parse(body).files?.[0]?.key;
      const { size } = await store.head(key);
      if (size !== opts.sizeMB * 1024 * 1024)
        throw new Error(`stored ${size} bytes, expected ${opts.sizeMB} MiB`);
    };
    const samples = await alternate(opts.runs, {
      stowage: async () => {
        const { ms, value } = await timed(() => post(stowage.port, opts.file));
        await expectSize(value);
        return ms;
      },
      multer: async () => {
        const { ms, value } = await timed(() => post(multer.port, opts.file));
        await expectSize(value);
        return ms;
      },
    });
    const side = (server: Server, ms: number[]): UploadSide => ({
      mbps: mbps(opts.sizeMB, median(ms)),
      runsMs: ms,
      peakRssMB: peakRssMB(server.child.pid ?? -1) ?? Number.NaN,
      baselineRssMB: server.baselineRssMB,
    });
    return {
      sizeMB: opts.sizeMB,
      runs: opts.runs,
      stowage: side(stowage, samples.stowage ?? []),
      multer: side(multer, samples.multer ?? []),
    };
  } finally {
    for (const server of servers) server.child.kill();
    await s3.stop();
  }
}
