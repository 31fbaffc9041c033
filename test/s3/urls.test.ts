import { describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { contentDisposition } from '../../adapters/s3/urls.js';
import { expectCode, randomData, sha256 } from '../helpers/streams.js';
import { useS3Server } from './harness.js';

describe('S3 urls (presigned POST: presigned-post.test.ts)', () => {
  const s3 = useS3Server({ prefix: 'app' });

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
      `attachment; filename="Report _final_ _.pdf"; filename*=UTF-8''Report%20_final_%20%C3%A9.pdf`,
    );
    await res2.arrayBuffer();
  });

  it('builds content-disposition safely from the key name', () => {
    expect(contentDisposition(true, 'a/b/photo.jpg')).toBe(
      `attachment; filename="photo.jpg"; filename*=UTF-8''photo.jpg`,
    );
    expect(() => contentDisposition('', 'k')).toThrow(/download/);
  });

  it('public URLs: path style on a custom endpoint, readable by fetch; virtual-hosted and CDN forms', async () => {
    await s3.storage.put('pub/a b+c.txt', 'public text');
    const url = await s3.storage.url('pub/a b+c.txt');
    expect(url).toBe(`${s3.server.endpoint}/${s3.server.bucket}/app/pub/a%20b%2Bc.txt`);
    const res = await fetch(url);
    expect(await res.text()).toBe('public text');

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

  it('rejects url options S3 cannot honour', async () => {
    await expectCode(s3.storage.url('k', { expiresIn: 8 * 24 * 3600 }), 'INVALID_ARGUMENT');
    await expectCode(s3.storage.url('k', { transform: { width: 100 } }), 'NOT_SUPPORTED');
    await expectCode(s3.storage.url('../k'), 'INVALID_KEY');
  });
});
