import { Readable } from 'node:stream';
import { beforeEach, expect, it } from 'vitest';
import { s3Calls } from '../helpers/s3-calls.js';
import { collect, expectCode, randomData, sha256, unknownLength } from '../helpers/streams.js';
import { startFlakyProxy } from '../servers/s3-flaky-proxy.js';
import type { S3TestServer } from '../servers/s3-server.js';
import { describeEachS3Server, storageOn } from './harness.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB; // S3's minimum part size.

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

describeEachS3Server('S3 multipart put', { partSize: PART, queueSize: 2 }, (s3) => {
  beforeEach(() => s3.server.clearRequests());

  it('uploads a body of unknown length in 4 parts and reads it back intact', async () => {
    const data = randomData(3 * PART + 123_457);
    const info = await s3.storage.put('mp/four-parts.bin', unknownLength(data, 100_000));
    expect(info.size).toBe(data.length);
    expect(info.sha256).toBe(sha256(data));
    const sent = await s3Calls(s3.server);
    expect(sent.filter((c) => c === 'UploadPart')).toHaveLength(4);
    expect(sent.filter((c) => c === 'CompleteMultipartUpload')).toHaveLength(1);
    expect(sent).not.toContain('PutObject');
    const { body, info: got } = await s3.storage.get('mp/four-parts.bin');
    const back = await collect(body);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    expect(got.size).toBe(data.length);
    const ranged = await s3.storage.get('mp/four-parts.bin', { range: { start: PART - 10, end: PART + 9 } });
    expect(Buffer.compare(await collect(ranged.body), data.subarray(PART - 10, PART + 10))).toBe(0);
  });

  it('stores x-amz-meta-sha256 when the sha256 is given up front, and head returns it', async () => {
    const data = randomData(2 * PART + 1);
    await s3.storage.put('mp/with-sha.bin', unknownLength(data), {
      sha256: sha256(data),
      contentType: 'application/x-test',
    });
    const head = await s3.storage.head('mp/with-sha.bin');
    expect(head.sha256).toBe(sha256(data));
    expect(head.metadata).toEqual({});
    expect(head.contentType).toBe('application/x-test');
    expect(head.size).toBe(data.length);
  });

  it('stores the sha256 of a small streamed body too (one PutObject, verified before sending)', async () => {
    const data = randomData(300_000);
    await s3.storage.put('mp/small.bin', Readable.from(unknownLength(data)));
    expect(await s3Calls(s3.server)).toEqual(['PutObject']);
    expect((await s3.storage.head('mp/small.bin')).sha256).toBe(sha256(data));
  });

  it('a source failing mid-stream aborts the upload: no object, AbortMultipartUpload sent, nothing pending', async () => {
    const gate = gatedStream(randomData(2 * PART + 1000));
    const pending = s3.storage.put('mp/failing.bin', gate.stream);
    await waitFor(s3.server, 'UploadPart', 2);
    gate.fail(new Error('client went away'));
    await expectCode(pending, 'ABORTED');
    const sent = await s3Calls(s3.server);
    expect(sent).toContain('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect(await s3.storage.exists('mp/failing.bin')).toBe(false);
    expect(await s3.server.pendingUploads()).toEqual([]);
  });

  it('an AbortSignal mid-upload keeps the previous object intact and aborts the upload', async () => {
    const previous = randomData(1000);
    await s3.storage.put('mp/abort.bin', previous);
    await s3.server.clearRequests();
    const controller = new AbortController();
    const gate = gatedStream(randomData(2 * PART + 1000));
    const pending = s3.storage.put('mp/abort.bin', gate.stream, { signal: controller.signal });
    await waitFor(s3.server, 'UploadPart', 2);
    controller.abort();
    await expectCode(pending, 'ABORTED');
    expect(await s3Calls(s3.server)).toContain('AbortMultipartUpload');
    expect(await s3Calls(s3.server)).not.toContain('CompleteMultipartUpload');
    expect(sha256(await collect((await s3.storage.get('mp/abort.bin')).body))).toBe(sha256(previous));
    expect(await s3.server.pendingUploads()).toEqual([]);
  });

  it('an AbortSignal while CompleteMultipartUpload is pending cancels it and aborts the upload', async () => {
    const proxy = await startFlakyProxy(s3.server.endpoint);
    try {
      const viaProxy = storageOn(s3.server, { endpoint: proxy.endpoint, partSize: PART, maxRetries: 0 });
      proxy.hold((method, url) => method === 'POST' && url.includes('uploadId='));
      const controller = new AbortController();
      const pending = viaProxy.put('mp/abort-complete.bin', unknownLength(randomData(PART + 10)), {
        signal: controller.signal,
      });
      while (proxy.held === 0) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await expectCode(pending, 'ABORTED');
      expect(await s3Calls(s3.server)).toContain('AbortMultipartUpload');
      expect(await s3Calls(s3.server)).not.toContain('CompleteMultipartUpload');
      expect(await s3.storage.exists('mp/abort-complete.bin')).toBe(false);
      expect(await s3.server.pendingUploads()).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('an AbortSignal while CreateMultipartUpload is pending answers at once and aborts the upload created later', async () => {
    const proxy = await startFlakyProxy(s3.server.endpoint);
    try {
      const viaProxy = storageOn(s3.server, { endpoint: proxy.endpoint, partSize: PART, maxRetries: 0 });
      await s3.server.clearRequests();
      proxy.hold((method, url) => method === 'POST' && /[?&]uploads(=|&|$)/.test(url));
      const controller = new AbortController();
      const pending = viaProxy.put('mp/abort-create.bin', unknownLength(randomData(PART + 10)), {
        signal: controller.signal,
      });
      while (proxy.held === 0) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      // Answered while S3 has not even seen the create yet.
      await expectCode(pending, 'ABORTED');
      expect(await s3Calls(s3.server)).not.toContain('CreateMultipartUpload');
      // The create lands after the caller gave up: the upload it opens is aborted, not left to linger.
      proxy.release();
      while (!(await s3Calls(s3.server)).includes('AbortMultipartUpload'))
        await new Promise((r) => setTimeout(r, 20));
      expect(await s3Calls(s3.server)).toContain('CreateMultipartUpload');
      expect(await s3.server.pendingUploads()).toEqual([]);
      expect(await s3.storage.exists('mp/abort-create.bin')).toBe(false);
    } finally {
      await proxy.stop();
    }
  });

  it('a sha256 mismatch found only at the end never completes the upload', async () => {
    const previous = 'previous';
    await s3.storage.put('mp/mismatch.bin', previous);
    await s3.server.clearRequests();
    const data = randomData(2 * PART + 5);
    await expectCode(
      s3.storage.put('mp/mismatch.bin', unknownLength(data), { sha256: sha256('other') }),
      'CHECKSUM_MISMATCH',
    );
    const sent = await s3Calls(s3.server);
    expect(sent).toContain('UploadPart');
    expect(sent).toContain('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect((await collect((await s3.storage.get('mp/mismatch.bin')).body)).toString()).toBe(previous);
    expect(await s3.server.pendingUploads()).toEqual([]);
  });

  it('a short body (size promised, fewer bytes sent) never completes the upload', async () => {
    const data = randomData(2 * PART + 5);
    await expectCode(
      s3.storage.put('mp/short.bin', unknownLength(data), { size: data.length + 1 }),
      'CHECKSUM_MISMATCH',
    );
    expect(await s3Calls(s3.server)).not.toContain('CompleteMultipartUpload');
    expect(await s3.storage.exists('mp/short.bin')).toBe(false);
    expect(await s3.server.pendingUploads()).toEqual([]);
  });

  it('maxSize tripping after parts were sent is TOO_LARGE and aborts the upload', async () => {
    const data = randomData(3 * PART);
    await expectCode(
      s3.storage.put('mp/too-big.bin', unknownLength(data), { maxSize: 2 * PART + 100 }),
      'TOO_LARGE',
    );
    expect(await s3Calls(s3.server)).toContain('AbortMultipartUpload');
    expect(await s3.storage.exists('mp/too-big.bin')).toBe(false);
    expect(await s3.server.pendingUploads()).toEqual([]);
  });

  it('copies part by part above the multipart copy threshold (UploadPartCopy), content and metadata intact', async () => {
    const copier = storageOn(s3.server, { multipartCopyThreshold: PART, copyPartSize: PART, queueSize: 2 });
    const data = randomData(2 * PART + 777);
    await copier.put('mp/copy src+&;=%.bin', unknownLength(data), {
      sha256: sha256(data),
      contentType: 'application/x-copied',
      metadata: { tag: 'big' },
    });
    await s3.server.clearRequests();
    const info = await copier.copy('mp/copy src+&;=%.bin', 'mp/copied ü.bin');
    expect(info.key).toBe('mp/copied ü.bin');
    expect(info.size).toBe(data.length);
    const sent = await s3Calls(s3.server);
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
