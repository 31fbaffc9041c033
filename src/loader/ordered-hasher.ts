import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { StowageError } from '../core/errors.js';

/** Hashes byte ranges of a file, in the order given. */
interface RangeHasher {
  hashRange(start: number, end: number): void;
  digest(): Promise<string>;
  close(): Promise<void>;
}

/** Files at least this large are hashed on a worker thread, beside the network and disk work. */
let workerMinBytes = 32 * 1024 * 1024;

/** Tests lower the threshold to exercise the worker with small files. */
export function setWorkerThreshold(bytes: number): void {
  workerMinBytes = bytes;
}
const CHUNK = 4 * 1024 * 1024;

/**
 * Parts finish out of order; sha256 needs bytes in order. This feeds each
 * newly contiguous run of finished parts to a hasher that reads it back
 * (from the page cache) — on a worker thread for big files, so hashing
 * overlaps the download instead of competing with it for the event loop.
 */
export class OrderedHasher {
  private readonly finished = new Set<number>();
  private next = 0;
  private readonly hasher: RangeHasher;

  constructor(
    path: string,
    handle: FileHandle,
    size: number,
    private readonly count: number,
    private readonly bounds: (i: number) => { start: number; end: number },
  ) {
    this.hasher = size >= workerMinBytes ? new WorkerHasher(path) : new InThreadHasher(handle);
  }

  partDone(i: number): void {
    this.finished.add(i);
    while (this.next < this.count && this.finished.has(this.next)) {
      const { start, end } = this.bounds(this.next);
      if (end >= start) this.hasher.hashRange(start, end);
      this.next++;
    }
  }

  async finish(): Promise<string> {
    if (this.next < this.count) throw new StowageError('INTERNAL', 'download finished with parts missing');
    return this.hasher.digest();
  }

  close(): Promise<void> {
    return this.hasher.close();
  }
}

class InThreadHasher implements RangeHasher {
  private readonly hash = createHash('sha256');
  private queue: Promise<void> = Promise.resolve();
  private error: unknown;
  private readonly buffer = Buffer.allocUnsafe(CHUNK);

  constructor(private readonly handle: FileHandle) {}

  hashRange(start: number, end: number): void {
    this.queue = this.queue
      .then(async () => {
        for (let pos = start; pos <= end; ) {
          const want = Math.min(CHUNK, end + 1 - pos);
          const { bytesRead } = await this.handle.read(this.buffer, 0, want, pos);
          if (bytesRead === 0) throw new StowageError('INTERNAL', `partial file ended at byte ${pos}`);
          this.hash.update(this.buffer.subarray(0, bytesRead));
          pos += bytesRead;
        }
      })
      .catch((err) => {
        this.error ??= err;
      });
  }

  async digest(): Promise<string> {
    await this.queue;
    if (this.error) throw this.error;
    return this.hash.digest('hex');
  }

  async close(): Promise<void> {
    await this.queue;
  }
}

/**
 * The worker's code: reads ranges with readSync and hashes them, in message order.
 * An ES module loaded from a data: URL, so it runs the same whatever the parent's
 * module type or flags (eval code inherits --input-type, and require is not in ESM).
 */
const WORKER_SOURCE = `
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, readSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
const fd = openSync(workerData.path, 'r');
const hash = createHash('sha256');
const buf = Buffer.allocUnsafe(${CHUNK});
let failed = false;
parentPort.on('message', (m) => {
  if (failed) return;
  try {
    if (m.type === 'range') {
      for (let pos = m.start; pos <= m.end; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, m.end + 1 - pos), pos);
        if (n === 0) throw new Error('partial file ended at byte ' + pos);
        hash.update(n === buf.length ? buf : buf.subarray(0, n));
        pos += n;
      }
    } else if (m.type === 'finish') {
      closeSync(fd);
      parentPort.postMessage({ type: 'digest', sha256: hash.digest('hex') });
    }
  } catch (e) {
    failed = true;
    parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
});
`;

const WORKER_URL = new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`);

class WorkerHasher implements RangeHasher {
  private readonly worker: Worker;
  private readonly result: Promise<string>;

  constructor(path: string) {
    this.worker = new Worker(WORKER_URL, { workerData: { path } });
    this.result = new Promise<string>((resolve, reject) => {
      this.worker.on('message', (m: { type: string; sha256?: string; message?: string }) => {
        if (m.type === 'digest') resolve(m.sha256 as string);
        else reject(new StowageError('INTERNAL', `hashing the download failed: ${m.message}`));
      });
      this.worker.on('error', (err) =>
        reject(new StowageError('INTERNAL', 'the hashing worker failed', { cause: err })),
      );
      this.worker.on('exit', () => reject(new StowageError('INTERNAL', 'the hashing worker stopped')));
    });
    this.result.catch(() => undefined);
  }

  hashRange(start: number, end: number): void {
    this.worker.postMessage({ type: 'range', start, end });
  }

  async digest(): Promise<string> {
    this.worker.postMessage({ type: 'finish' });
    return this.result;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
