import https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { S3Storage } from '../../adapters/s3/index.js';
import { collect, randomData, sha256, unknownLength } from '../helpers/streams.js';
import { startTlsProxy, type TlsProxy } from '../servers/tls-proxy.js';
import { describeEachS3Server, storageOn } from './harness.js';

const MiB = 1024 * 1024;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * SigV4 hashes every body it signs. Over HTTPS a body that carries a checksum
 * S3 verifies is sent as UNSIGNED-PAYLOAD instead (botocore's rule), saving a
 * sha256 pass per byte. Checked on the requests the S3 test server records,
 * reached directly (http) or through a TLS front (https), with the stored
 * bytes read back each time.
 */
describeEachS3Server('S3 payload signing', {}, (s3) => {
  let tlsFront: TlsProxy;
  const clients: S3Client[] = [];
  beforeAll(async () => {
    tlsFront = await startTlsProxy(s3.server.endpoint);
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await tlsFront.stop();
  });

  function storage(over: 'http' | 'https', checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'): S3Storage {
    const server = s3.server;
    const client = new S3Client({
      region: server.region,
      endpoint: over === 'https' ? tlsFront.endpoint : server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksumCalculation: checksums,
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpsAgent: new https.Agent({ ca: tlsFront.ca }) },
    });
    clients.push(client);
    return storageOn(server, { client, partSize: 5 * MiB });
  }

  /** Puts `data`, reads it back, returns the recorded body-carrying requests (PUTs) for the key. */
  async function putAndRecord(store: S3Storage, key: string, data: Buffer, streamed: boolean) {
    const server = s3.server;
    await server.clearRequests();
    await store.put(key, streamed ? unknownLength(data) : data);
    const puts = (await server.requests()).filter((r) => r.method === 'PUT' && r.path.endsWith(key));
    const { body } = await store.get(key);
    expect(sha256(await collect(body))).toBe(sha256(data));
    return puts;
  }

  it('over https, parts carrying a CRC32 are sent as UNSIGNED-PAYLOAD and stored intact', async () => {
    const parts = await putAndRecord(
      storage('https', 'WHEN_SUPPORTED'),
      'signing/tls-crc.bin',
      randomData(12 * MiB),
      true,
    );
    expect(parts.length).toBe(3);
    for (const part of parts) {
      expect(part.query).toContain('partNumber');
      expect(part.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      expect(part.headers['x-amz-checksum-crc32']).toBeTruthy();
    }
  });

  it('over https, a single PUT carrying Content-MD5 is sent as UNSIGNED-PAYLOAD', async () => {
    const [put] = await putAndRecord(
      storage('https', 'WHEN_REQUIRED'),
      'signing/tls-small.bin',
      randomData(70_000),
      false,
    );
    expect(put?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('over https, parts without a checksum keep the signed payload hash', async () => {
    const parts = await putAndRecord(
      storage('https', 'WHEN_REQUIRED'),
      'signing/tls-no-checksum.bin',
      randomData(11 * MiB),
      true,
    );
    expect(parts.length).toBe(3);
    for (const part of parts) {
      expect(part.headers['x-amz-checksum-crc32']).toBeUndefined();
      expect(part.headers['x-amz-content-sha256']).toMatch(HEX_SHA256);
    }
  });

  it('over plain http, every body is signed even with a checksum', async () => {
    const parts = await putAndRecord(
      storage('http', 'WHEN_SUPPORTED'),
      'signing/http-crc.bin',
      randomData(11 * MiB),
      true,
    );
    expect(parts.length).toBe(3);
    for (const part of parts) {
      expect(part.headers['x-amz-checksum-crc32']).toBeTruthy();
      expect(part.headers['x-amz-content-sha256']).toMatch(HEX_SHA256);
    }
  });
});
