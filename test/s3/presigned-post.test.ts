import { request } from 'node:http';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { expect, it, vi } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import type { DirectUpload } from '../../src/core/types.js';
import { collect, expectCode, randomData, sha256 } from '../helpers/streams.js';
import { describeEachS3Server, serverOptions } from './harness.js';

/**
 * presignUpload() exercised as a browser does it (global fetch + FormData)
 * against both test servers. s3rver enforces POST policies as S3 does
 * (test/servers/s3-post-policy.ts): signature, expiry, conditions and
 * content-length-range, with nothing stored when the POST is refused. moto
 * (its launcher) checks the policy's signature against the IAM key and its
 * expiry, but no condition: those tests run on s3rver only, and say so.
 */

interface PostResult {
  status: number;
  /** S3 error code from the XML body, when there is one. */
  code?: string;
  /** The error's <Message>, XML entities decoded. */
  message?: string;
  body: string;
}

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

function xmlText(body: string, tag: string): string | undefined {
  const raw = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)?.[1];
  return raw?.replace(/&(quot|apos|lt|gt|amp);/g, (_, name: string) => ENTITIES[name]!);
}

/** The fields in order, then the file (last, as S3 requires); `edit` changes the form first. */
async function send(
  upload: Pick<DirectUpload, 'url' | 'fields'> & { fileField?: string },
  data: Uint8Array,
  options: { type?: string; edit?: (form: FormData) => void } = {},
): Promise<PostResult> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  options.edit?.(form);
  form.append(
    upload.fileField ?? 'file',
    new Blob([data], { type: options.type ?? 'application/octet-stream' }),
    'f.bin',
  );
  const res = await fetch(upload.url, { method: 'POST', body: form });
  const body = await res.text();
  return { status: res.status, code: xmlText(body, 'Code'), message: xmlText(body, 'Message'), body };
}

function policyOf(fields: Record<string, string>): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8'));
}

describeEachS3Server('S3 presigned POST (presignUpload)', { prefix: 'app' }, (s3) => {
  it('a POST within the limit is stored intact, with its type and metadata', async () => {
    const upload = await s3.storage.presignUpload('uploads/avatar.png', {
      maxSize: 50_000,
      contentType: 'image/png',
      metadata: { owner: 'ada' },
      expiresIn: 120,
    });
    expect(upload).toMatchObject({ key: 'uploads/avatar.png', method: 'POST', fileField: 'file' });
    expect(upload.url).toBe(`${s3.server.endpoint}/${s3.server.bucket}`);
    expect(upload.fields.key).toBe('app/uploads/avatar.png');
    const data = randomData(10_000);
    expect((await send(upload, data, { type: 'image/png' })).status).toBe(204);
    const head = await s3.storage.head('uploads/avatar.png');
    expect(head).toMatchObject({ size: data.length, contentType: 'image/png' });
    expect(head.metadata.owner).toBe('ada');
    expect(sha256(await collect((await s3.storage.get('uploads/avatar.png')).body))).toBe(sha256(data));
  });

  it('exactly maxSize bytes is accepted: the range is inclusive', async () => {
    const upload = await s3.storage.presignUpload('uploads/exact.bin', { maxSize: 4096 });
    const data = randomData(4096);
    expect((await send(upload, data)).status).toBe(204);
    expect(sha256(await collect((await s3.storage.get('uploads/exact.bin')).body))).toBe(sha256(data));
  });

  it('without contentType, the browser may send its own Content-Type field, and it is stored', async () => {
    const upload = await s3.storage.presignUpload('uploads/any.txt', { maxSize: 1000 });
    const data = Buffer.from('plain words');
    const sent = await send(upload, data, { edit: (form) => form.append('Content-Type', 'text/plain') });
    expect(sent.status).toBe(204);
    expect((await s3.storage.head('uploads/any.txt')).contentType).toBe('text/plain');
  });

  s3.it(
    'postPolicyConditions',
    'a POST over maxSize is refused with 400 EntityTooLarge; the object already at the key is untouched',
    async () => {
      const previous = randomData(3000);
      await s3.storage.put('uploads/doc.bin', previous);
      const upload = await s3.storage.presignUpload('uploads/doc.bin', { maxSize: 1000 });
      const refused = await send(upload, randomData(1001));
      expect(refused.status).toBe(400);
      expect(refused.code).toBe('EntityTooLarge');
      expect(xmlText(refused.body, 'ProposedSize')).toBe('1001');
      expect(xmlText(refused.body, 'MaxSizeAllowed')).toBe('1000');
      expect(sha256(await collect((await s3.storage.get('uploads/doc.bin')).body))).toBe(sha256(previous));

      const fresh = await s3.storage.presignUpload('uploads/fresh.bin', { maxSize: 1000 });
      expect((await send(fresh, randomData(2000))).code).toBe('EntityTooLarge');
      expect(await s3.storage.exists('uploads/fresh.bin')).toBe(false);
    },
  );

  s3.it(
    'postPolicyConditions',
    'a body far over the limit gets its 400 at fetch, and the server keeps serving',
    async () => {
      const upload = await s3.storage.presignUpload('uploads/big.bin', { maxSize: 64 * 1024 });
      const refused = await send(upload, randomData(8 * 1024 * 1024));
      expect(refused).toMatchObject({ status: 400, code: 'EntityTooLarge' });
      expect(xmlText(refused.body, 'ProposedSize')).toBe(String(8 * 1024 * 1024));
      expect(await s3.storage.exists('uploads/big.bin')).toBe(false);
      await s3.storage.put('uploads/after.txt', 'still up');
      expect((await collect((await s3.storage.get('uploads/after.txt')).body)).toString()).toBe('still up');
    },
  );

  s3.it(
    'postPolicyConditions',
    'a file under the policy minimum is refused with 400 EntityTooSmall',
    async () => {
      const post = await createPresignedPost(s3.storage.client, {
        Bucket: s3.server.bucket,
        Key: 'app/uploads/small.bin',
        Conditions: [['content-length-range', 100, 1000]],
        Expires: 60,
      });
      const refused = await send(post, randomData(99));
      expect(refused).toMatchObject({ status: 400, code: 'EntityTooSmall' });
      expect(xmlText(refused.body, 'MinSizeAllowed')).toBe('100');
      expect(await s3.storage.exists('uploads/small.bin')).toBe(false);
      expect((await send(post, randomData(100))).status).toBe(204);
    },
  );

  s3.it(
    'postPolicyConditions',
    'refuses a Content-Type the policy does not allow (403), exact type or prefix',
    async () => {
      const exact = await s3.storage.presignUpload('uploads/pic.png', {
        maxSize: 1000,
        contentType: 'image/png',
      });
      const swapped = await send(exact, randomData(10), {
        type: 'text/html',
        edit: (form) => form.set('Content-Type', 'text/html'),
      });
      expect(swapped).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(swapped.message).toBe(
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]',
      );
      expect(await s3.storage.exists('uploads/pic.png')).toBe(false);

      const prefixed = await s3.storage.presignUpload('uploads/any-image', {
        maxSize: 1000,
        contentType: 'image/',
      });
      expect(prefixed.fields['Content-Type']).toBeUndefined();
      const wrongType = await send(prefixed, randomData(10), {
        edit: (form) => form.append('Content-Type', 'text/plain'),
      });
      expect(wrongType).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(wrongType.message).toContain('["starts-with", "$Content-Type", "image/"]');
      // The browser must send the type as a field: without it the condition fails too.
      expect((await send(prefixed, randomData(10))).status).toBe(403);
      expect(await s3.storage.exists('uploads/any-image')).toBe(false);

      const ok = await send(prefixed, randomData(10), {
        type: 'image/webp',
        edit: (form) => form.append('Content-Type', 'image/webp'),
      });
      expect(ok.status).toBe(204);
      expect((await s3.storage.head('uploads/any-image')).contentType).toBe('image/webp');
    },
  );

  s3.it(
    'postPolicyConditions',
    'a Content-Type field needs a condition: refused without one, any type allowed by starts-with ""',
    async () => {
      // What presignUpload() without contentType needs for browsers that send the file's type (S3 rule).
      const bare = await createPresignedPost(s3.storage.client, {
        Bucket: s3.server.bucket,
        Key: 'app/uploads/untyped.bin',
        Conditions: [['content-length-range', 0, 100]],
        Expires: 60,
      });
      const typed = await send(bare, randomData(10), {
        edit: (form) => form.append('Content-Type', 'image/png'),
      });
      expect(typed).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(typed.message).toBe('Invalid according to Policy: Extra input fields: Content-Type');
      expect(await s3.storage.exists('uploads/untyped.bin')).toBe(false);

      const open = await createPresignedPost(s3.storage.client, {
        Bucket: s3.server.bucket,
        Key: 'app/uploads/untyped.bin',
        Conditions: [
          ['content-length-range', 0, 100],
          ['starts-with', '$Content-Type', ''],
        ],
        Expires: 60,
      });
      expect((await send(open, randomData(10))).status).toBe(204);
      const withType = await send(open, randomData(10), {
        edit: (form) => form.append('Content-Type', 'image/gif'),
      });
      expect(withType.status).toBe(204);
      expect((await s3.storage.head('uploads/untyped.bin')).contentType).toBe('image/gif');
    },
  );

  it('refuses a tampered policy, a wrong secret and an unknown key id; nothing is stored', async () => {
    const upload = await s3.storage.presignUpload('uploads/signed.bin', { maxSize: 100 });
    const policy = policyOf(upload.fields);
    policy.conditions = policy.conditions.map((c) =>
      Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 0, 10_000_000] : c,
    );
    const tampered = await send(upload, randomData(5000), {
      edit: (form) => form.set('Policy', Buffer.from(JSON.stringify(policy)).toString('base64')),
    });
    expect(tampered).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });

    const forged = new S3Storage(
      serverOptions(s3.server, {
        prefix: 'app',
        credentials: { accessKeyId: s3.server.accessKeyId, secretAccessKey: 'not-the-secret' },
      }),
    );
    const wrongSecret = await send(
      await forged.presignUpload('uploads/signed.bin', { maxSize: 100 }),
      randomData(10),
    );
    expect(wrongSecret).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });

    const stranger = new S3Storage(
      serverOptions(s3.server, {
        prefix: 'app',
        credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'whatever' },
      }),
    );
    const unknown = await send(
      await stranger.presignUpload('uploads/signed.bin', { maxSize: 100 }),
      randomData(10),
    );
    expect(unknown).toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });

    const bareForm = await send(
      { url: upload.url, fields: { key: 'app/uploads/signed.bin' } },
      randomData(10),
    );
    expect(bareForm).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(await s3.storage.exists('uploads/signed.bin')).toBe(false);
  });

  it('refuses an expired policy with 403 "Policy expired"', async () => {
    // Presigned an hour ago (clock moved back for the SDK only), valid for 60 s.
    vi.useFakeTimers({ toFake: ['Date'] });
    let upload: DirectUpload;
    try {
      vi.setSystemTime(Date.now() - 3_600_000);
      upload = await s3.storage.presignUpload('uploads/late.bin', { maxSize: 100, expiresIn: 60 });
    } finally {
      vi.useRealTimers();
    }
    expect(upload.expiresAt.getTime()).toBeLessThan(Date.now());
    const refused = await send(upload, randomData(10));
    expect(refused).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(refused.message).toBe('Invalid according to Policy: Policy expired.');
    expect(await s3.storage.exists('uploads/late.bin')).toBe(false);
  });

  s3.it(
    'postPolicyConditions',
    'every form field needs a condition: a changed key or an extra field is refused, x-ignore-* is not',
    async () => {
      const upload = await s3.storage.presignUpload('uploads/mine.bin', { maxSize: 100 });
      const otherKey = await send(upload, randomData(10), {
        edit: (form) => form.set('key', 'app/uploads/theirs.bin'),
      });
      expect(otherKey).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(otherKey.message).toContain('Policy Condition failed: ["eq", "$key", "app/uploads/mine.bin"]');
      expect(await s3.storage.exists('uploads/theirs.bin')).toBe(false);

      const extra = await send(upload, randomData(10), {
        edit: (form) => form.append('x-amz-meta-role', 'admin'),
      });
      expect(extra).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(extra.message).toBe('Invalid according to Policy: Extra input fields: x-amz-meta-role');
      expect(await s3.storage.exists('uploads/mine.bin')).toBe(false);

      const ignored = await send(upload, randomData(10), {
        edit: (form) => form.append('x-ignore-note', 'anything'),
      });
      expect(ignored.status).toBe(204);
    },
  );

  s3.it(
    'postPolicyConditions',
    'success_action_status is honoured when the policy names it, refused when it does not',
    async () => {
      const post = await createPresignedPost(s3.storage.client, {
        Bucket: s3.server.bucket,
        Key: 'app/uploads/status.bin',
        Conditions: [['content-length-range', 0, 100]],
        Fields: { success_action_status: '201' },
        Expires: 60,
      });
      const created = await send(post, randomData(10));
      expect(created.status).toBe(201);
      expect(xmlText(created.body, 'Key')).toBe('app/uploads/status.bin');

      const upload = await s3.storage.presignUpload('uploads/status2.bin', { maxSize: 100 });
      const unsigned = await send(upload, randomData(10), {
        edit: (form) => form.append('success_action_status', '201'),
      });
      expect(unsigned).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(await s3.storage.exists('uploads/status2.bin')).toBe(false);
    },
  );

  s3.it(
    'malformedPostRequest',
    'a malformed or abandoned POST is refused without storing anything, and the server keeps serving',
    async () => {
      const upload = await s3.storage.presignUpload('uploads/broken.bin', { maxSize: 1_000_000 });
      const boundary = 'stowage-boundary';
      const head = `${Object.entries(upload.fields)
        .map(
          ([name, value]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        )
        .join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n`;
      const contentType = `multipart/form-data; boundary=${boundary}`;

      // No closing boundary: the form never ends.
      const malformed = await fetch(upload.url, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: Buffer.concat([Buffer.from(head), randomData(1000)]),
      });
      const text = await malformed.text();
      expect(malformed.status).toBe(400);
      expect(xmlText(text, 'Code')).toBe('MalformedPOSTRequest');

      // The client goes away halfway through the file.
      const { hostname, port, pathname } = new URL(upload.url);
      await new Promise<void>((resolve) => {
        const req = request({
          hostname,
          port,
          path: pathname,
          method: 'POST',
          headers: {
            'content-type': contentType,
            'content-length': String(head.length + 200_000),
          },
        });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.write(head);
        req.write(randomData(50_000), () => setImmediate(() => req.destroy()));
      });
      expect(await s3.storage.exists('uploads/broken.bin')).toBe(false);
      expect((await send(upload, randomData(10))).status).toBe(204);
    },
  );

  it('the policy defaults to a 10-minute expiry and names the exact key and bucket', async () => {
    const upload = await s3.storage.presignUpload('uploads/doc.pdf', {
      maxSize: 1234,
      contentType: 'application/pdf',
    });
    const policy = policyOf(upload.fields);
    expect(policy.conditions).toContainEqual(['content-length-range', 0, 1234]);
    expect(policy.conditions).toContainEqual({ key: 'app/uploads/doc.pdf' });
    expect(policy.conditions).toContainEqual({ bucket: s3.server.bucket });
    const expires = new Date(policy.expiration).getTime();
    expect(expires).toBeGreaterThan(Date.now() + 500_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 601_000);
  });

  it('validates presignUpload options and refuses stores without POST uploads', async () => {
    await expectCode(s3.storage.presignUpload('k', { maxSize: 0 }), 'INVALID_ARGUMENT');
    await expectCode(s3.storage.presignUpload('k', { maxSize: 10, contentType: 'nope' }), 'INVALID_ARGUMENT');
    await expectCode(
      s3.storage.presignUpload('k', { maxSize: 10, metadata: { sha256: 'x' } }),
      'INVALID_ARGUMENT',
    );
    await expectCode(s3.storage.presignUpload('k', undefined as never), 'INVALID_ARGUMENT');
    const r2 = new S3Storage({
      bucket: 'b',
      preset: 'r2',
      endpoint: 'https://acct.r2.cloudflarestorage.com',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x'.repeat(40) },
    });
    // No POST on R2: a presigned PUT, which cannot be granted without the exact size.
    expect(typeof r2.presignUpload).toBe('function');
    await expectCode(r2.presignUpload('k', { maxSize: 10 }), 'INVALID_ARGUMENT');
    expect((await r2.presignUpload('k', { maxSize: 10, size: 5 })).method).toBe('PUT');
  });
});
