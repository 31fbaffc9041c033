import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { contentDisposition } from '../../adapters/s3/urls.js';
import { collect, expectCode, randomData, sha256 } from '../helpers/streams.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { storageOn } from './harness.js';

interface PostPolicy {
  expiration: string;
  conditions: Array<Record<string, string> | [string, string | number, string | number]>;
}

function decodePolicy(fields: Record<string, string>): PostPolicy {
  const encoded = fields.Policy ?? fields.policy;
  expect(encoded, 'the presigned POST carries a policy').toBeTypeOf('string');
  return JSON.parse(Buffer.from(encoded!, 'base64').toString('utf8')) as PostPolicy;
}

describe('S3 urls and direct uploads', () => {
  let server: S3TestServer;
  let s: S3Storage;
  beforeAll(async () => {
    server = await startS3Server();
    s = storageOn(server, { prefix: 'app' });
  });
  afterAll(() => server.stop());

  it('a presigned GET reads the object with fetch, with an attachment disposition when asked', async () => {
    const data = randomData(20_000);
    await s.put('docs/report 2024 é.pdf', data, { contentType: 'application/pdf' });
    const url = await s.url('docs/report 2024 é.pdf', { expiresIn: 300 });
    expect(url).toContain('X-Amz-Signature=');
    expect(url).toContain('X-Amz-Expires=300');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));

    const download = await s.url('docs/report 2024 é.pdf', {
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
    await s.put('pub/a b+c.txt', 'public text');
    const url = await s.url('pub/a b+c.txt');
    expect(url).toBe(`${server.endpoint}/${server.bucket}/app/pub/a%20b%2Bc.txt`);
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
    await expectCode(s.url('k', { expiresIn: 8 * 24 * 3600 }), 'INVALID_ARGUMENT');
    await expectCode(s.url('k', { transform: { width: 100 } }), 'NOT_SUPPORTED');
    await expectCode(s.url('../k'), 'INVALID_KEY');
  });

  it('a presigned POST uploads with fetch and FormData; type and metadata land on the object', async () => {
    const upload = await s.presignUpload('uploads/avatar.png', {
      maxSize: 50_000,
      contentType: 'image/png',
      metadata: { owner: 'ada' },
      expiresIn: 120,
    });
    expect(upload).toMatchObject({ key: 'uploads/avatar.png', method: 'POST', fileField: 'file' });
    expect(upload.url).toBe(`${server.endpoint}/${server.bucket}`);
    expect(upload.fields.key).toBe('app/uploads/avatar.png');
    expect(upload.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const data = randomData(10_000);
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append(upload.fileField, new Blob([data], { type: 'image/png' }), 'avatar.png');
    const res = await fetch(upload.url, { method: 'POST', body: form });
    expect(res.status).toBe(204);
    const head = await s.head('uploads/avatar.png');
    expect(head.size).toBe(data.length);
    expect(head.contentType).toBe('image/png');
    expect(head.metadata.owner).toBe('ada');
    expect(sha256(await collect((await s.get('uploads/avatar.png')).body))).toBe(sha256(data));
  });

  /**
   * s3rver accepts any POST without checking the policy, so a POST over the
   * limit is not refused here. What S3 enforces is the signed policy
   * document: assert its conditions. The live run (STOWAGE_TEST_S3_URL)
   * shows the refusal against the real store.
   */
  it('the POST policy carries content-length-range, the exact key and the content-type conditions', async () => {
    const exact = await s.presignUpload('uploads/doc.pdf', { maxSize: 1234, contentType: 'application/pdf' });
    const policy = decodePolicy(exact.fields);
    expect(policy.conditions).toContainEqual(['content-length-range', 0, 1234]);
    expect(policy.conditions).toContainEqual({ key: 'app/uploads/doc.pdf' });
    expect(policy.conditions).toContainEqual({ bucket: server.bucket });
    expect(policy.conditions).toContainEqual({ 'Content-Type': 'application/pdf' });
    const expires = new Date(policy.expiration).getTime();
    expect(expires).toBeGreaterThan(Date.now() + 500_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 601_000);

    const prefixed = await s.presignUpload('uploads/pic', { maxSize: 10, contentType: 'image/' });
    expect(decodePolicy(prefixed.fields).conditions).toContainEqual([
      'starts-with',
      '$Content-Type',
      'image/',
    ]);
    expect(prefixed.fields['Content-Type']).toBeUndefined();
  });

  it('validates presignUpload options and refuses stores without POST uploads', async () => {
    await expectCode(s.presignUpload('k', { maxSize: 0 }), 'INVALID_ARGUMENT');
    await expectCode(s.presignUpload('k', { maxSize: 10, contentType: 'nope' }), 'INVALID_ARGUMENT');
    await expectCode(s.presignUpload('k', { maxSize: 10, metadata: { sha256: 'x' } }), 'INVALID_ARGUMENT');
    await expectCode(s.presignUpload('k', undefined as never), 'INVALID_ARGUMENT');
    const r2 = new S3Storage({
      bucket: 'b',
      preset: 'r2',
      endpoint: 'https://acct.r2.cloudflarestorage.com',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x'.repeat(40) },
    });
    expect(r2.capabilities.presignUpload).toBe(false);
    await expectCode(r2.presignUpload('k', { maxSize: 10 }), 'NOT_SUPPORTED');
  });
});
