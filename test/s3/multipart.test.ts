import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3Storage } from '../../adapters/s3/index.js';
import { s3Calls } from '../helpers/s3-calls.js';
import { collect, expectCode, randomData, sha256, unknownLength } from '../helpers/streams.js';
import { startFlakyProxy } from '../servers/s3-flaky-proxy.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { storageOn } from './harness.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB; // S3's minimum part size.

/** What kind of S3 call a recorded request was. */
/** A body that sends `bytes` and then waits until `release` is called, or fails. */
function gatedStream(bytes: Buffer): { stream: Readable; fail(err: Error): void } {
  let sent = false;
  const stream = new Readable({
    read() {
      if (!sent) {
        sent = true;
        for (let i = 0; i < bytes.length; i += 256 * 1024) this.push(bytes.subarray(i, i + 256 * 1024));
      }
    },
  });
  return { stream, fail: (err) => stream.destroy(err) };
}

/** Resolves once the server has seen `count` requests of `what`. */
async function waitFor(server: S3TestServer, what: string, count = 1): Promise<void> {
  for (;;) {
    if ((await s3Calls(server)).filter((c) => c === what).length >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('S3 multipart put', () => {
  let server: S3TestServer;
  let s: S3Storage;
  beforeAll(async () => {
    server = await startS3Server();
    s = storageOn(server, { partSize: PART, queueSize: 2 });
  });
  afterAll(() => server.stop());
  beforeEach(() => server.clearRequests());

  it('uploads a body of unknown length in 4 parts and reads it back intact', async () => {
    const data = randomData(3 * PART + 123_457);
    const info = await s.put('mp/four-parts.bin', unknownLength(data, 100_000));
    expect(info.size).toBe(data.length);
    expect(info.sha256).toBe(sha256(data));
    const sent = await s3Calls(server);
    expect(sent.filter((c) => c === 'UploadPart')).toHaveLength(4);
    expect(sent.filter((c) => c === 'CompleteMultipartUpload')).toHaveLength(1);
    expect(sent).not.toContain('PutObject');
    const { body, info: got } = await s.get('mp/four-parts.bin');
    const back = await collect(body);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    expect(got.size).toBe(data.length);
    const ranged = await s.get('mp/four-parts.bin', { range: { start: PART - 10, end: PART + 9 } });
    expect(Buffer.compare(await collect(ranged.body), data.subarray(PART - 10, PART + 10))).toBe(0);
  });

  it('stores x-amz-meta-sha256 when the sha256 is given up front, and head returns it', async () => {
    const data = randomData(2 * PART + 1);
    await s.put('mp/with-sha.bin', unknownLength(data), {
      sha256: sha256(data),
      contentType: 'application/x-test',
    });
    const head = await s.head('mp/with-sha.bin');
    expect(head.sha256).toBe(sha256(data));
    expect(head.metadata).toEqual({});
    expect(head.contentType).toBe('application/x-test');
    expect(head.size).toBe(data.length);
  });

  it('stores the sha256 of a small streamed body too (one PutObject, verified before sending)', async () => {
    const data = randomData(300_000);
    await s.put('mp/small.bin', Readable.from(unknownLength(data)));
    expect(await s3Calls(server)).toEqual(['PutObject']);
    expect((await s.head('mp/small.bin')).sha256).toBe(sha256(data));
  });

  it('a source failing mid-stream aborts the upload: no object, AbortMultipartUpload sent, nothing pending', async () => {
    const gate = gatedStream(randomData(2 * PART + 1000));
    const pending = s.put('mp/failing.bin', gate.stream);
    await waitFor(server, 'UploadPart', 2);
    gate.fail(new Error('client went away'));
    await expectCode(pending, 'ABORTED');
    const sent = await s3Calls(server);
    expect(sent).toContain('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect(await s.exists('mp/failing.bin')).toBe(false);
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('an AbortSignal mid-upload keeps the previous object intact and aborts the upload', async () => {
    const previous = randomData(1000);
    await s.put('mp/abort.bin', previous);
    await server.clearRequests();
    const controller = new AbortController();
    const gate = gatedStream(randomData(2 * PART + 1000));
    const pending = s.put('mp/abort.bin', gate.stream, { signal: controller.signal });
    await waitFor(server, 'UploadPart', 2);
    controller.abort();
    await expectCode(pending, 'ABORTED');
    expect(await s3Calls(server)).toContain('AbortMultipartUpload');
    expect(await s3Calls(server)).not.toContain('CompleteMultipartUpload');
    expect(sha256(await collect((await s.get('mp/abort.bin')).body))).toBe(sha256(previous));
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('an AbortSignal while CompleteMultipartUpload is pending cancels it and aborts the upload', async () => {
    const proxy = await startFlakyProxy(server.endpoint);
    try {
      const viaProxy = storageOn(server, { endpoint: proxy.endpoint, partSize: PART, maxRetries: 0 });
      proxy.hold((method, url) => method === 'POST' && url.includes('uploadId='));
      const controller = new AbortController();
      const pending = viaProxy.put('mp/abort-complete.bin', unknownLength(randomData(PART + 10)), {
        signal: controller.signal,
      });
      while (proxy.held === 0) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await expectCode(pending, 'ABORTED');
      expect(await s3Calls(server)).toContain('AbortMultipartUpload');
      expect(await s3Calls(server)).not.toContain('CompleteMultipartUpload');
      expect(await s.exists('mp/abort-complete.bin')).toBe(false);
      expect(await server.pendingUploads()).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('a sha256 mismatch found only at the end never completes the upload', async () => {
    const previous = 'previous';
    await s.put('mp/mismatch.bin', previous);
    await server.clearRequests();
    const data = randomData(2 * PART + 5);
    await expectCode(
      s.put('mp/mismatch.bin', unknownLength(data), { sha256: sha256('other') }),
      'CHECKSUM_MISMATCH',
    );
    const sent = await s3Calls(server);
    expect(sent).toContain('UploadPart');
    expect(sent).toContain('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect((await collect((await s.get('mp/mismatch.bin')).body)).toString()).toBe(previous);
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('a short body (size promised, fewer bytes sent) never completes the upload', async () => {
    const data = randomData(2 * PART + 5);
    await expectCode(
      s.put('mp/short.bin', unknownLength(data), { size: data.length + 1 }),
      'CHECKSUM_MISMATCH',
    );
    expect(await s3Calls(server)).not.toContain('CompleteMultipartUpload');
    expect(await s.exists('mp/short.bin')).toBe(false);
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('maxSize tripping after parts were sent is TOO_LARGE and aborts the upload', async () => {
    const data = randomData(3 * PART);
    await expectCode(s.put('mp/too-big.bin', unknownLength(data), { maxSize: 2 * PART + 100 }), 'TOO_LARGE');
    expect(await s3Calls(server)).toContain('AbortMultipartUpload');
    expect(await s.exists('mp/too-big.bin')).toBe(false);
    expect(await server.pendingUploads()).toEqual([]);
  });

  it('copies part by part above the multipart copy threshold (UploadPartCopy), content and metadata intact', async () => {
    const copier = storageOn(server, { multipartCopyThreshold: PART, copyPartSize: PART, queueSize: 2 });
    const data = randomData(2 * PART + 777);
    await copier.put('mp/copy src+&;=%.bin', unknownLength(data), {
      sha256: sha256(data),
      contentType: 'application/x-copied',
      metadata: { tag: 'big' },
    });
    await server.clearRequests();
    const info = await copier.copy('mp/copy src+&;=%.bin', 'mp/copied ü.bin');
    expect(info.key).toBe('mp/copied ü.bin');
    expect(info.size).toBe(data.length);
    const sent = await s3Calls(server);
    expect(sent.filter((c) => c === 'UploadPartCopy')).toHaveLength(3);
    const head = await copier.head('mp/copied ü.bin');
    expect(head).toMatchObject({
      size: data.length,
      contentType: 'application/x-copied',
      metadata: { tag: 'big' },
    });
    expect(head.sha256).toBe(sha256(data));
    expect(sha256(await collect((await copier.get('mp/copied ü.bin')).body))).toBe(sha256(data));
  });
});
