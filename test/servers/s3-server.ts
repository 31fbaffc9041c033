/**
 * A real S3 server on loopback for tests and benchmarks: s3rver 3.7.1 in a
 * child process, with its own temp directory and a free port.
 *
 *   const s3 = await startS3Server();
 *   const storage = new S3Storage({ bucket: s3.bucket, endpoint: s3.endpoint, region: s3.region,
 *     forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
 *   // or: await createStorage(s3.storageUrl)
 *   await s3.stop();
 *
 * Starts in well under a second. `node --openssl-legacy-provider` is required:
 * s3rver encrypts ListObjectsV2 continuation tokens with DES. What s3rver
 * cannot do (SigV4 checks on ordinary requests, suffix ranges, "bytes=0-0")
 * and what the child patches or emulates (POST policy enforcement, byte-ordered
 * listing, atomic per-key writes, serial deletes, AbortMultipartUpload,
 * ListMultipartUploads, UploadPartCopy, CopySource decoding) is listed in
 * s3-server-child.ts. requests() shows what clients really sent;
 * pendingUploads() lists unfinished multipart uploads (leftovers); seed()
 * makes bulk fixtures. s3rver's built-in key pair S3RVER/S3RVER is the only
 * one it accepts (any other access key id gets InvalidAccessKeyId, 403).
 *
 * Use path-style addressing (forcePathStyle) and, for the raw AWS SDK, set
 * requestChecksumCalculation: 'WHEN_REQUIRED' — under the SDK default s3rver
 * stores aws-chunked framing as object data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CHILD_SOURCE } from './s3-server-child.js';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** URL path, percent-decoded by the server ("/bucket/key"). */
  path: string;
  /** Names of the query parameters ("uploadId", "partNumber", "uploads", …). */
  query: string[];
  /** A few headers of interest (content-length, x-amz-copy-source, range, …), lower-case. */
  headers: Record<string, string>;
  status?: number;
}

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** The server process, for benchmarks that account for its CPU time. */
  pid: number;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** s3://… URL for createStorage(), credentials and endpoint included. */
  storageUrl: string;
  /** The server's data directory. */
  directory: string;
  /** Requests seen since start (or the last clearRequests()). */
  requests(): Promise<RecordedRequest[]>;
  clearRequests(): Promise<void>;
  /** Creates small objects (same body) straight in the server's store: fast fixtures for listings. */
  seed(keys: string[], body: string): Promise<void>;
  /** Multipart uploads started and neither completed nor aborted: "<key> (<uploadId>)". */
  pendingUploads(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  /** Bucket created at start (default "stowage-test"). */
  bucket?: string;
}

// s3rver's built-in account: it accepts any well-formed SigV4 signature for this key id.
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const REGION = 'us-east-1';

export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? 'stowage-test';
  const directory = await mkdtemp(join(tmpdir(), 'stowage-s3rver-'));
  const s3rverMain = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD_SOURCE, s3rverMain, directory, bucket],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let port: number;
  try {
    port = await readPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const uploadsDir = join(directory, bucket, '._S3rver_uploads');
  let stopped: Promise<void> | undefined;
  // A crash after listening: say why, or the tests only see ECONNREFUSED.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (!stopped) console.error(`[s3rver] exited unexpectedly (code ${code}, signal ${signal}): ${stderr}`);
  });

  return {
    endpoint,
    pid: child.pid ?? -1,
    region: REGION,
    bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    storageUrl: `s3://${ACCESS_KEY_ID}:${SECRET_ACCESS_KEY}@${bucket}?region=${REGION}&endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`,
    directory,
    async requests() {
      const res = await fetch(`${endpoint}/_stowage/requests`);
      return (await res.json()) as RecordedRequest[];
    },
    async clearRequests() {
      await fetch(`${endpoint}/_stowage/requests`, { method: 'DELETE' });
    },
    async seed(keys, body) {
      const res = await fetch(`${endpoint}/_stowage/seed`, {
        method: 'POST',
        body: JSON.stringify({ keys, body }),
      });
      if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
    },
    async pendingUploads() {
      const ids = await readdir(uploadsDir).catch(() => [] as string[]);
      return Promise.all(
        ids.map(async (id) => {
          const key = await readFile(join(uploadsDir, id, 'key'), 'utf8').catch(() => '?');
          return `${key} (${id})`;
        }),
      );
    },
    stop() {
      stopped ??= (async () => {
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

/** Waits for the child's `{"port":N}` line, or fails with what it printed. */
function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 20 s: ${stderr}`)), 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const { port } = JSON.parse(line) as { port: number };
        clearTimeout(timer);
        lines.close();
        resolve(port);
      } catch {
        // Not our line: s3rver's own output.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code} before listening: ${stderr}`));
    });
  });
}
