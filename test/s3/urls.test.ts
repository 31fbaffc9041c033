import { describe, expect, it, vi } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { expectCode, randomData, sha256 } from '../helpers/streams.js';
import { describeEachS3Server } from './harness.js';

describeEachS3Server('S3 urls (presigned POST: presigned-post.test.ts)', { prefix: 'app' }, (s3) => {
  it('a presigned GET reads the object with fetch, with an attachment disposition when asked', async () => {
    const data = randomData(20_000);
    await s3.storage.put('docs/report 2024 é.pdf', data, { contentType: 'application/pdf' });
    const url = await s3.storage.url('docs/report 2024 é.pdf', { expiresIn: 300 });
    expect(url).toContain('X-Amz-Signature=');
    expect(url).toContain('X-Amz-Expires=300');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));

    const download = await s3.storage.url('docs/report 2024 é.pdf', {
      expiresIn: 60,
      download: 'Report "final" é.pdf',
    });
    const res2 = await fetch(download);
    expect(res2.status).toBe(200);
    expect(res2.headers.get('content-disposition')).toBe(
      `attachment; filename="Report _final_ _.pdf"; filename*=UTF-8''Report%20%22final%22%20%C3%A9.pdf`,
    );
    await res2.arrayBuffer();
    // download: true offers the key's own name.
    const res3 = await fetch(await s3.storage.url('docs/report 2024 é.pdf', { download: true }));
    expect(res3.headers.get('content-disposition')).toBe(
      `attachment; filename="report 2024 _.pdf"; filename*=UTF-8''report%202024%20%C3%A9.pdf`,
    );
    await res3.arrayBuffer();
  });

  it('a presigned GET of an odd key (+ & ; = %, quotes) reads it', async () => {
    await s3.storage.put("odd/a+b&c;d=e%f 'q'.txt", 'odd');
    const res = await fetch(await s3.storage.url("odd/a+b&c;d=e%f 'q'.txt", { expiresIn: 60 }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('odd');
  });

  it('an expired presigned GET is refused with 403', async () => {
    await s3.storage.put('docs/late.txt', 'late');
    // Presigned an hour ago (clock moved back for the SDK only), valid for 60 s.
    vi.useFakeTimers({ toFake: ['Date'] });
    let url: string;
    try {
      vi.setSystemTime(Date.now() - 3_600_000);
      url = await s3.storage.url('docs/late.txt', { expiresIn: 60 });
    } finally {
      vi.useRealTimers();
    }
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });

  s3.it(
    'signatureChecks',
    'a presigned GET signed with a wrong secret, or tampered with, is refused with 403',
    async () => {
      await s3.storage.put('docs/signed.txt', 'signed');
      const forged = new S3Storage({
        bucket: s3.server.bucket,
        region: s3.server.region,
        endpoint: s3.server.endpoint,
        forcePathStyle: true,
        prefix: 'app',
        credentials: { accessKeyId: s3.server.accessKeyId, secretAccessKey: 'not-the-secret' },
      });
      const wrongSecret = await fetch(await forged.url('docs/signed.txt', { expiresIn: 60 }));
      expect(wrongSecret.status).toBe(403);
      expect(await wrongSecret.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
      // A signed URL for one key does not open another.
      const url = await s3.storage.url('docs/signed.txt', { expiresIn: 60 });
      const other = await fetch(url.replace('/docs/signed.txt', '/docs/other.txt'));
      expect(other.status).toBe(403);
      await other.arrayBuffer();
    },
  );

  s3.it('anonymousReads', 'public URLs: path style on a custom endpoint, readable by fetch', async () => {
    await s3.storage.put('pub/a b+c.txt', 'public text');
    const url = await s3.storage.url('pub/a b+c.txt');
    expect(url).toBe(`${s3.server.endpoint}/${s3.server.bucket}/app/pub/a%20b%2Bc.txt`);
    const res = await fetch(url);
    expect(await res.text()).toBe('public text');
  });

  it('rejects url options S3 cannot honour', async () => {
    await expectCode(s3.storage.url('k', { expiresIn: 8 * 24 * 3600 }), 'INVALID_ARGUMENT');
    // Cloudinary's own url() option, as a JavaScript caller could still pass it to S3.
    const cloudinaryOnly: Record<string, unknown> = { transform: { width: 100 } };
    await expectCode(s3.storage.url('k', cloudinaryOnly), 'NOT_SUPPORTED');
    await expectCode(s3.storage.url('../k'), 'INVALID_KEY');
    await expectCode(s3.storage.url('k', { download: ' ' }), 'INVALID_ARGUMENT');
  });
});

describe('S3 url shapes', () => {
  it('public URLs: virtual-hosted on AWS, and CDN and preset forms', async () => {
    const aws = new S3Storage({
      bucket: 'my-bucket',
      region: 'eu-west-1',
      prefix: 'p',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x'.repeat(40) },
    });
    expect(await aws.url('dir/ü.png')).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com/p/dir/%C3%BC.png');
    const cdn = new S3Storage({
      bucket: 'b',
      region: 'us-east-1',
      publicBaseUrl: 'https://cdn.example.com/',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x'.repeat(40) },
    });
    expect(await cdn.url('x y.png')).toBe('https://cdn.example.com/x%20y.png');
    const spaces = new S3Storage({
      bucket: 'b',
      preset: 'spaces',
      region: 'nyc3',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x'.repeat(40) },
    });
    expect(await spaces.url('k.txt')).toBe('https://b.nyc3.digitaloceanspaces.com/k.txt');
  });
});
