import { describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { collect, randomData, sha256, unknownLength } from '../helpers/streams.js';
import { liveS3Options } from './live.js';

/**
 * The same checks against a real store: S3 itself refusing a POST over the
 * policy's content-length-range (the loopback server emulates that check,
 * test/servers/s3-post-policy.ts; this proves the emulation matches). Runs when
 * STOWAGE_TEST_S3_URL and credentials are set; the conformance suite runs
 * against the same store in test/conformance/s3.test.ts.
 */
const live = liveS3Options();
if (!live.options) console.log(`[s3 live tests] skipped: ${live.reason}`);

describe.skipIf(!live.options)('S3 live store', () => {
  const s = live.options ? new S3Storage({ ...live.options, partSize: 5 * 1024 * 1024 }) : undefined;

  it('refuses a presigned POST over maxSize and accepts one within it', async () => {
    const storage = s!;
    const upload = await storage.presignUpload('live/post.bin', {
      maxSize: 1000,
      contentType: 'application/octet-stream',
    });
    const send = async (size: number) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append(
        upload.fileField,
        new Blob([randomData(size)], { type: 'application/octet-stream' }),
        'f.bin',
      );
      const res = await fetch(upload.url, { method: 'POST', body: form });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await send(2000)).toBe(400);
    expect(await storage.exists('live/post.bin')).toBe(false);
    expect(await send(500)).toBe(204);
    expect((await storage.head('live/post.bin')).size).toBe(500);
    await storage.delete('live/post.bin');
  });

  it('uploads 3 parts and reads them back intact', async () => {
    const storage = s!;
    const data = randomData(11 * 1024 * 1024);
    await storage.put('live/multipart.bin', unknownLength(data));
    expect(sha256(await collect((await storage.get('live/multipart.bin')).body))).toBe(sha256(data));
    await storage.delete('live/multipart.bin');
  });
});
