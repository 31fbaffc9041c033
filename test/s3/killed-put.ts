import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import type { S3StorageOptions } from '../../adapters/s3/index.js';
import { buildForChildren } from '../loader/build-child.js';
import type { S3TestServer } from '../servers/s3-server.js';
import { serverOptions, storageOn } from './harness.js';

const PART_SIZE = 5 * 1024 * 1024; // S3's smallest part
const WAIT_MS = 60_000; // how long the child may take to send its first part, not a timing check

/** A child process that put()s and is killed -9 mid-write, like a dyno restart. */
export interface KilledPut {
  /** Starts a put() of `key` (a storage key) in a child, kills it -9 once S3 holds its first part, and returns the upload id left behind. */
  killMidPut(server: S3TestServer, key: string, storageOptions?: Partial<S3StorageOptions>): Promise<string>;
  /** Removes the built child script. */
  cleanup(): Promise<void>;
}

export async function prepareKilledPut(): Promise<KilledPut> {
  const { script, dir } = await buildForChildren(join(import.meta.dirname, 'child-put.ts'));
  return {
    async killMidPut(server, key, storageOptions = {}) {
      const options = serverOptions(server, { ...storageOptions, partSize: PART_SIZE });
      const s3Key = storageOptions.prefix ? `${storageOptions.prefix}/${key}` : key;
      const child = spawn(process.execPath, [script, JSON.stringify({ options, key })], {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      try {
        const uploadId = await firstPartStored(server, s3Key, child, () => stderr);
        child.kill('SIGKILL');
        await exited;
        return uploadId;
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Polls the server until an upload at `s3Key` holds a part; fails if the child exits first. */
async function firstPartStored(
  server: S3TestServer,
  s3Key: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<string> {
  const storage = storageOn(server);
  const Bucket = server.bucket;
  const end = Date.now() + WAIT_MS;
  try {
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`the put child exited early: ${stderr()}`);
      const { Uploads = [] } = await storage.client.send(
        new ListMultipartUploadsCommand({ Bucket, Prefix: s3Key }),
      );
      for (const upload of Uploads.filter((u) => u.Key === s3Key)) {
        const { Parts = [] } = await storage.client.send(
          new ListPartsCommand({ Bucket, Key: s3Key, UploadId: upload.UploadId }),
        );
        if (Parts.length > 0) return upload.UploadId!;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no part of ${s3Key} reached the server: ${stderr()}`);
  } finally {
    storage.client.destroy();
  }
}
