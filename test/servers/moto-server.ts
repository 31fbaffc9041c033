/**
 * A second, independent S3 server on loopback for tests: Python's moto 5.2.1
 * in a child process (moto-server.py), with SigV4 signatures verified
 * against an IAM access key — which s3rver (s3-server.ts) never does.
 *
 *   const moto = await startMotoServer();
 *   // same handle as startS3Server(): endpoint, region, bucket, keys, storageUrl, stop() …
 *   await moto.stop();
 *
 * Needs `python3` with moto[server] 5.2.1 (.ci/run checks it). One server per
 * test file: it starts in about a second. The child exits when the parent's
 * end of its stdin closes, so a parent that dies leaves no orphan, and it
 * removes its temp directory as it goes.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import type { RecordedRequest, S3TestServer } from './s3-server.js';

/**
 * What moto cannot show even with the launcher's patches (moto-server.py
 * lists those: signatures over the raw request line, presigned URLs, POST
 * policy signatures, payload hashes). A test that needs one of these runs on
 * s3rver only, and says so (test/s3/harness.ts).
 */
export const MOTO_GAPS = {
  postPolicyConditions:
    "moto checks no POST policy condition (content-length-range, key, Content-Type, extra fields): past the policy's signature and expiry it stores whatever arrives; s3rver enforces them (s3-post-policy.ts)",
  malformedPostRequest:
    'a POST form cut short (no closing boundary) is answered 403 AccessDenied, as werkzeug finds no fields in it, not 400 MalformedPOSTRequest',
  anonymousReads:
    'with authentication on, moto refuses every unsigned request: no public-read bucket can be set up',
  uploadAges:
    'ListMultipartUploads reports every upload as initiated 2010-11-10T20:48:33Z, so no upload is young; s3rver reports when each began',
} as const;

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), 'moto-server.py');
const REGION = 'us-east-1';

export interface StartMotoServerOptions {
  /** Bucket created at start (default "stowage-test"). */
  bucket?: string;
  /** Leave out the launcher's patches, to show what stock moto does. */
  stock?: boolean;
}

/** How the launcher is spawned; exported so a test can spawn it the same way from another parent. */
export function motoLaunch(
  bucket: string,
  directory: string,
  stock = false,
): { command: string; args: string[]; options: SpawnOptions } {
  return {
    command: 'python3',
    args: [LAUNCHER, bucket, REGION, directory, ...(stock ? ['--stock'] : [])],
    options: {
      // Its own temp state; nothing of the shell's AWS_* or moto settings.
      env: { PATH: process.env.PATH ?? '', HOME: directory, TMPDIR: directory, PYTHONDONTWRITEBYTECODE: '1' },
      // stdin stays open for as long as the parent lives: its end is the child's signal to exit.
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  };
}

export async function startMotoServer(options: StartMotoServerOptions = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? 'stowage-test';
  const directory = await mkdtemp(join(tmpdir(), 'stowage-moto-'));
  const launch = motoLaunch(bucket, directory, options.stock);
  const child = spawn(launch.command, launch.args, launch.options);
  let started: { port: number; accessKeyId: string; secretAccessKey: string };
  try {
    started = await readStartLine(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const { port, accessKeyId, secretAccessKey } = started;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: REGION,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  let stopped: Promise<void> | undefined;

  return {
    endpoint,
    pid: child.pid ?? -1,
    region: REGION,
    bucket,
    accessKeyId,
    secretAccessKey,
    storageUrl: `s3://${accessKeyId}:${encodeURIComponent(secretAccessKey)}@${bucket}?region=${REGION}&endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`,
    directory,
    async requests() {
      const res = await fetch(`${endpoint}/_stowage/requests`);
      return (await res.json()) as RecordedRequest[];
    },
    async clearRequests() {
      await (await fetch(`${endpoint}/_stowage/requests`, { method: 'DELETE' })).arrayBuffer();
    },
    async seed(keys, body) {
      const res = await fetch(`${endpoint}/_stowage/seed`, {
        method: 'POST',
        body: JSON.stringify({ keys, body }),
      });
      if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    },
    async pendingUploads() {
      // Through S3's own API, signed like any other request.
      const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (out.Uploads ?? []).map((u) => `${u.Key} (${u.UploadId})`);
    },
    stop() {
      stopped ??= (async () => {
        client.destroy();
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Waits for the launcher's start line, or fails with what it printed. */
function readStartLine(
  child: ChildProcess,
): Promise<{ port: number; accessKeyId: string; secretAccessKey: string }> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const collect = (chunk: Buffer) => {
      stderr += chunk.toString();
    };
    child.stderr?.on('data', collect);
    child.once('error', (err) =>
      reject(new Error(`moto could not be started (python3 missing?): ${err.message}`)),
    );
    const timer = setTimeout(() => reject(new Error(`moto did not start within 30 s: ${stderr}`)), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const started = JSON.parse(line) as { port: number; accessKeyId: string; secretAccessKey: string };
        clearTimeout(timer);
        lines.close();
        // Keep draining both, unread, so later output (tracebacks of a 500) never blocks the child.
        child.stdout?.resume();
        child.stderr?.off('data', collect).resume();
        resolve(started);
      } catch {
        // Not our line.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`moto exited with code ${code} before listening: ${stderr}`));
    });
  });
}
