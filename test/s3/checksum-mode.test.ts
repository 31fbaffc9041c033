import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../adapters/s3/options.js';
import { collect, randomData, sha256 } from '../helpers/streams.js';
import { describeEachS3Server, serverOptions, storageOn } from './harness.js';

/**
 * Since SDK 3.729 the default (WHEN_SUPPORTED) sends streamed bodies as
 * aws-chunked with a CRC trailer. s3rver 3.7.1 stores that framing as the
 * object's bytes — the silent corruption R2/B2 users met; moto decodes it as
 * S3 does. These tests show both, and that S3Storage's default for a non-AWS
 * endpoint (WHEN_REQUIRED) stores the exact bytes on either, checked by
 * read-back sha256.
 */
describeEachS3Server('S3 checksum mode on non-AWS endpoints', {}, (s3) => {
  function rawClient(mode: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'): S3Client {
    return new S3Client({
      region: s3.server.region,
      endpoint: s3.server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.server.accessKeyId, secretAccessKey: s3.server.secretAccessKey },
      requestChecksumCalculation: mode,
      responseChecksumValidation: mode,
    });
  }

  async function rawRoundTrip(mode: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED', key: string, data: Buffer) {
    const client = rawClient(mode);
    await client.send(
      new PutObjectCommand({
        Bucket: s3.server.bucket,
        Key: key,
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    const out = await client.send(new GetObjectCommand({ Bucket: s3.server.bucket, Key: key }));
    const stored = await collect(out.Body as Readable);
    client.destroy();
    return stored;
  }

  if (s3.kind.name === 's3rver') {
    it('the SDK default corrupts a streamed PutObject on s3rver (aws-chunked framing stored as data)', async () => {
      const data = randomData(70_000);
      const stored = await rawRoundTrip('WHEN_SUPPORTED', 'checksum/sdk-default.bin', data);
      expect(sha256(stored)).not.toBe(sha256(data));
      expect(stored.length).toBeGreaterThan(data.length);
      expect(stored.toString('latin1')).toMatch(/x-amz-checksum-crc32:/);
    });
  } else {
    it('the SDK default stores a streamed PutObject intact on moto (aws-chunked decoded, as S3 does)', async () => {
      const data = randomData(70_000);
      expect(sha256(await rawRoundTrip('WHEN_SUPPORTED', 'checksum/sdk-default.bin', data))).toBe(
        sha256(data),
      );
    });
  }

  it('WHEN_REQUIRED stores the exact bytes', async () => {
    const data = randomData(70_000);
    expect(sha256(await rawRoundTrip('WHEN_REQUIRED', 'checksum/when-required.bin', data))).toBe(
      sha256(data),
    );
  });

  it('S3Storage defaults to WHEN_REQUIRED for a non-AWS endpoint and reads back exactly what it wrote', async () => {
    const resolved = resolveOptions(serverOptions(s3.server));
    expect(resolved.requestChecksumCalculation).toBe('WHEN_REQUIRED');
    expect(resolved.responseChecksumValidation).toBe('WHEN_REQUIRED');
    const s = storageOn(s3.server);
    expect(await s.client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    const data = randomData(70_000);
    const info = await s.put('checksum/stowage.bin', Readable.from([data]));
    expect(info.sha256).toBe(sha256(data));
    const back = await collect((await s.get('checksum/stowage.bin')).body);
    expect(sha256(back)).toBe(sha256(data));
    expect((await s.head('checksum/stowage.bin')).sha256).toBe(sha256(data));
  });
});

describe('S3 checksum mode defaults', () => {
  it('keeps the SDK default for AWS endpoints, and an explicit choice wins', () => {
    const aws = resolveOptions({ bucket: 'b', region: 'eu-west-1' });
    expect(aws.isAws).toBe(true);
    expect(aws.requestChecksumCalculation).toBeUndefined();
    const explicit = resolveOptions({
      bucket: 'b',
      endpoint: 'http://127.0.0.1:9000',
      requestChecksumCalculation: 'WHEN_SUPPORTED',
    });
    expect(explicit.requestChecksumCalculation).toBe('WHEN_SUPPORTED');
  });
});
