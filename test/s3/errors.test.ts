import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { mapS3Error } from '../../adapters/s3/s3-errors.js';
import { StowageError } from '../../src/core/errors.js';
import { collect, expectCode, stallingStream } from '../helpers/streams.js';
import { type FlakyProxy, startFlakyProxy } from '../servers/s3-flaky-proxy.js';
import { describeEachS3Server, serverOptions, storageOn } from './harness.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describeEachS3Server('S3 errors, retries and aborts', {}, (s3) => {
  let flaky: FlakyProxy;
  // Registered after useS3Server: starts once the server is up, and (afterAll hooks run in reverse) stops before it.
  beforeAll(async () => {
    flaky = await startFlakyProxy(s3.server.endpoint);
  });
  afterAll(async () => {
    await flaky?.stop();
  });

  it('retries a throttled request (503 SlowDown) and then succeeds', async () => {
    const s = storageOn(s3.server, { endpoint: flaky.endpoint, maxRetries: 3 });
    await s.put('retry/a.txt', 'kept');
    flaky.failNext(2);
    const before = flaky.count;
    expect((await collect((await s.get('retry/a.txt')).body)).toString()).toBe('kept');
    expect(flaky.count - before).toBe(3);
  });

  it('maps persistent 503 SlowDown to UNAVAILABLE, retryable, after maxRetries + 1 attempts', async () => {
    const s = storageOn(s3.server, { endpoint: flaky.endpoint, maxRetries: 1 });
    flaky.failNext(10);
    const before = flaky.count;
    const err = await expectCode(s.head('retry/a.txt'), 'UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(503);
    expect(flaky.count - before).toBe(2);
    flaky.failNext(0);
  });

  it('maps an unreachable endpoint to UNAVAILABLE and never shows the secret', async () => {
    const secret = 'very-secret-key-value-1234567890';
    const s = new S3Storage({
      ...serverOptions(s3.server, { endpoint: `http://127.0.0.1:${await closedPort()}`, maxRetries: 0 }),
      credentials: { accessKeyId: s3.server.accessKeyId, secretAccessKey: secret },
    });
    const err = await expectCode(s.put('x.txt', 'x'), 'UNAVAILABLE');
    expect(err.retryable).toBe(true);
    const everything = [
      err.message,
      err.stack,
      String((err.cause as Error)?.message),
      JSON.stringify(err),
    ].join('\n');
    expect(everything).not.toContain(secret);
    expect(everything).toContain('x.txt');
  });

  it('maps an unknown access key to ACCESS_DENIED', async () => {
    const s = new S3Storage({
      ...serverOptions(s3.server),
      credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'irrelevant-secret' },
    });
    await expectCode(s.put('denied.txt', 'x'), 'ACCESS_DENIED');
    await expectCode(s.get('denied.txt'), 'ACCESS_DENIED');
  });

  s3.it(
    'signatureChecks',
    'maps a wrong secret (403 SignatureDoesNotMatch) to ACCESS_DENIED; nothing is written',
    async () => {
      await storageOn(s3.server).put('signed.txt', 'kept');
      const forged = new S3Storage({
        ...serverOptions(s3.server),
        credentials: { accessKeyId: s3.server.accessKeyId, secretAccessKey: 'not-the-secret' },
      });
      // One at a time: a second promise made up front would reject unobserved while the first is awaited.
      for (const attempt of [() => forged.put('signed.txt', 'overwritten'), () => forged.get('signed.txt')]) {
        const err = await expectCode(attempt(), 'ACCESS_DENIED');
        expect(err.retryable).toBe(false);
        expect(err.status).toBe(403);
        expect((err.cause as { name?: string }).name).toBe('SignatureDoesNotMatch');
        expect(`${err.message}\n${err.stack}`).not.toContain('not-the-secret');
      }
      // HEAD answers carry no body, so no error code: the status alone says it.
      expect((await expectCode(forged.head('signed.txt'), 'ACCESS_DENIED')).status).toBe(403);
      await expectCode(forged.put('forged-new.txt', 'x'), 'ACCESS_DENIED');
      expect(await storageOn(s3.server).exists('forged-new.txt')).toBe(false);
      expect((await collect((await storageOn(s3.server).get('signed.txt')).body)).toString()).toBe('kept');
    },
  );

  it('maps a missing bucket to NOT_FOUND naming the bucket', async () => {
    const s = storageOn(s3.server, { bucket: 'no-such-bucket' });
    const err = await expectCode(s.get('k'), 'NOT_FOUND');
    expect(err.message).toMatch(/bucket/);
  });

  it('maps a range past the end to INVALID_RANGE from the server itself', async () => {
    const s = storageOn(s3.server);
    await s.put('range.txt', '0123456789');
    await expectCode(s.get('range.txt', { range: { start: 10 } }), 'INVALID_RANGE');
  });

  it('honours AbortSignal on get, list and a stalled put', async () => {
    const s = storageOn(s3.server);
    await s.put('abort/a.txt', 'a');
    await expectCode(s.get('abort/a.txt', { signal: AbortSignal.abort() }), 'ABORTED');
    await expectCode(async () => {
      for await (const _ of s.list('abort/', { signal: AbortSignal.abort() })) void _;
    }, 'ABORTED');
    const controller = new AbortController();
    const pending = s.put('abort/stalled.bin', stallingStream(1000), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expectCode(pending, 'ABORTED');
    expect(await s.exists('abort/stalled.bin')).toBe(false);
  });
});

describe('S3 error mapping', () => {
  it('maps SDK-shaped errors by name and status', () => {
    const cases: Array<[object, string, boolean]> = [
      [{ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }, 'NOT_FOUND', false],
      [{ name: 'NotFound', $metadata: { httpStatusCode: 404 } }, 'NOT_FOUND', false],
      [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, 'ACCESS_DENIED', false],
      [{ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }, 'ACCESS_DENIED', false],
      [{ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }, 'ACCESS_DENIED', false],
      [{ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }, 'UNAVAILABLE', true],
      [{ name: 'InternalError', $metadata: { httpStatusCode: 500 } }, 'UNAVAILABLE', true],
      [{ name: 'Whatever', $metadata: { httpStatusCode: 502 } }, 'UNAVAILABLE', true],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'UNAVAILABLE', true],
      [{ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } }, 'INVALID_RANGE', false],
      [{ name: 'EntityTooLarge', $metadata: { httpStatusCode: 400 } }, 'TOO_LARGE', false],
      [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'ABORTED', false],
    ];
    for (const [sdkError, code, retryable] of cases) {
      const mapped = mapS3Error(sdkError, 'reading', 'k');
      expect(mapped, JSON.stringify(sdkError)).toBeInstanceOf(StowageError);
      expect(mapped.code, JSON.stringify(sdkError)).toBe(code);
      expect(mapped.retryable).toBe(retryable);
      expect(mapped.cause).toBe(sdkError);
    }
  });
});
