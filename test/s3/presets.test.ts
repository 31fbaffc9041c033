import { describe, expect, it } from 'vitest';
import { S3_PRESETS, S3Storage } from '../../adapters/s3/index.js';
import { resolveOptions } from '../../adapters/s3/options.js';
import { createStorage } from '../../src/config/create-storage.js';
import { collect, expectCode } from '../helpers/streams.js';
import { describeEachS3Server } from './harness.js';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'preset-test-secret-0123456789' };

describeEachS3Server('S3 configuration by URL', {}, (s3) => {
  it('createStorage(s3:// URL) builds a working S3Storage', async () => {
    const storage = await createStorage(s3.server.storageUrl, {});
    expect(storage).toBeInstanceOf(S3Storage);
    await storage.put('via-url/a.txt', 'from createStorage');
    expect((await collect((await storage.get('via-url/a.txt')).body)).toString()).toBe('from createStorage');
  });
});

describe('S3 presets and configuration', () => {
  it('R2: region auto, WHEN_REQUIRED checksums, no POST uploads, endpoint required', () => {
    const r2 = resolveOptions({
      bucket: 'b',
      preset: 'r2',
      endpoint: 'https://acct.r2.cloudflarestorage.com',
      credentials: creds,
    });
    expect(r2).toMatchObject({ region: 'auto', isAws: false, requestChecksumCalculation: 'WHEN_REQUIRED' });
    expect(() => resolveOptions({ bucket: 'b', preset: 'r2', credentials: creds })).toThrow(
      /r2\.cloudflarestorage\.com/,
    );
  });

  it('B2 and Spaces derive the endpoint from the region; MinIO uses path style', () => {
    expect(resolveOptions({ bucket: 'b', preset: 'b2', region: 'us-west-004' }).endpoint).toBe(
      'https://s3.us-west-004.backblazeb2.com',
    );
    expect(resolveOptions({ bucket: 'b', preset: 'spaces', region: 'fra1' }).endpoint).toBe(
      'https://fra1.digitaloceanspaces.com',
    );
    expect(() => resolveOptions({ bucket: 'b', preset: 'spaces' })).toThrow(/region/);
    const minio = resolveOptions({ bucket: 'b', preset: 'minio', endpoint: 'http://localhost:9000' });
    expect(minio).toMatchObject({
      forcePathStyle: true,
      region: 'us-east-1',
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });

  it('fixed-endpoint stores: Tigris, GCS and Railway need no endpoint; all non-AWS get WHEN_REQUIRED', () => {
    expect(resolveOptions({ bucket: 'b', preset: 'tigris' })).toMatchObject({
      endpoint: 'https://fly.storage.tigris.dev',
      region: 'auto',
      isAws: false,
      forcePathStyle: false,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      batchDelete: true,
    });
    expect(resolveOptions({ bucket: 'b', preset: 'gcs' })).toMatchObject({
      endpoint: 'https://storage.googleapis.com',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      batchDelete: false,
    });
    expect(resolveOptions({ bucket: 'b', preset: 'railway' }).endpoint).toBe('https://storage.railway.app');
    // An explicit endpoint still wins.
    expect(resolveOptions({ bucket: 'b', preset: 'tigris', endpoint: 'http://127.0.0.1:9' }).endpoint).toBe(
      'http://127.0.0.1:9',
    );
  });

  it('Wasabi and Scaleway derive the endpoint from the region; Supabase and OCI need theirs, path style', () => {
    expect(resolveOptions({ bucket: 'b', preset: 'wasabi', region: 'eu-central-1' }).endpoint).toBe(
      'https://s3.eu-central-1.wasabisys.com',
    );
    expect(resolveOptions({ bucket: 'b', preset: 'scaleway', region: 'fr-par' }).endpoint).toBe(
      'https://s3.fr-par.scw.cloud',
    );
    expect(() => resolveOptions({ bucket: 'b', preset: 'wasabi' })).toThrow(/wasabisys\.com/);
    expect(() => resolveOptions({ bucket: 'b', preset: 'supabase' })).toThrow(
      /supabase\.co\/storage\/v1\/s3/,
    );
    expect(() => resolveOptions({ bucket: 'b', preset: 'oci' })).toThrow(/compat\.objectstorage/);
    const supabase = resolveOptions({
      bucket: 'b',
      preset: 'supabase',
      region: 'eu-west-2',
      endpoint: 'https://proj.supabase.co/storage/v1/s3',
    });
    expect(supabase).toMatchObject({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const oci = resolveOptions({
      bucket: 'b',
      preset: 'oci',
      region: 'eu-frankfurt-1',
      endpoint: 'https://ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com',
    });
    expect(oci).toMatchObject({ forcePathStyle: true, batchDelete: false });
  });

  it('every profile states POST support, batch delete, part rule and public URL form', async () => {
    for (const [name, preset] of Object.entries(S3_PRESETS)) {
      expect(typeof preset.presignedPost, name).toBe('boolean');
      expect(typeof preset.batchDelete, name).toBe('boolean');
      expect(preset.partRule, name).toMatch(/5 MiB/);
      expect(preset.publicUrl, name).not.toBe('');
    }
    expect(S3_PRESETS.r2?.partRule).toMatch(/same size except the last/);
    expect(S3_PRESETS.wasabi?.note).toMatch(/egress/);
    const noPost = ['r2', 'b2', 'gcs', 'supabase', 'oci', 'railway'];
    for (const name of noPost) {
      const s = new S3Storage({
        bucket: 'b',
        preset: name,
        region: 'r1',
        endpoint: 'https://s3.example.com',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x'.repeat(40) },
      });
      // Browser uploads there are presigned PUTs (exact size signed), not POST policies.
      await expect(s.presignUpload('k', { maxSize: 10, size: 1 })).resolves.toMatchObject({ method: 'PUT' });
    }
    const post = new S3Storage({ bucket: 'b', preset: 'tigris' });
    expect(typeof post.presignUpload).toBe('function');
    // The option beats the profile.
    expect(resolveOptions({ bucket: 'b', preset: 'gcs', batchDelete: true }).batchDelete).toBe(true);
    expect(() => resolveOptions({ bucket: 'b', batchDelete: 'no' as never })).toThrow(/batchDelete/);
  });

  it('Bucketeer and Cloudcube config vars become an AWS S3Storage (cube name as prefix)', async () => {
    const bucketeer = (await createStorage(undefined, {
      BUCKETEER_BUCKET_NAME: 'bucketeer-123',
      BUCKETEER_AWS_ACCESS_KEY_ID: 'AKIDBUCKETEER',
      BUCKETEER_AWS_SECRET_ACCESS_KEY: 'bucketeer-secret-0123456789',
      BUCKETEER_AWS_REGION: 'eu-west-1',
    })) as S3Storage;
    expect(bucketeer).toBeInstanceOf(S3Storage);
    expect(await bucketeer.url('public/logo.png')).toBe(
      'https://bucketeer-123.s3.eu-west-1.amazonaws.com/public/logo.png',
    );
    expect(await bucketeer.client.config.region()).toBe('eu-west-1');

    const cube = (await createStorage(undefined, {
      CLOUDCUBE_URL: 'https://cloud-cube-eu.s3.amazonaws.com/abc123cube',
      CLOUDCUBE_ACCESS_KEY_ID: 'AKIDCUBE',
      CLOUDCUBE_SECRET_ACCESS_KEY: 'cloudcube-secret-0123456789',
    })) as S3Storage;
    expect(cube.bucket).toBe('cloud-cube-eu');
    expect(await cube.url('public/a.png')).toBe(
      'https://cloud-cube-eu.s3.eu-west-1.amazonaws.com/abc123cube/public/a.png',
    );
  });

  it('refuses unknown presets and bad options with a message naming the fix', () => {
    expect(() => new S3Storage({ bucket: 'b', preset: 'nope' })).toThrow(/r2, b2, minio/);
    expect(() => new S3Storage({ bucket: '' })).toThrow(/options.bucket/);
    expect(() => new S3Storage({ bucket: 'b', partSize: 1024 })).toThrow(/partSize/);
    expect(() => new S3Storage({ bucket: 'b', endpoint: 'not a url' })).toThrow(/endpoint/);
    expect(Object.keys(S3_PRESETS)).toEqual(
      expect.arrayContaining([
        'r2',
        'b2',
        'minio',
        'spaces',
        'bucketeer',
        'cloudcube',
        'tigris',
        'gcs',
        'supabase',
        'wasabi',
        'scaleway',
        'oci',
        'railway',
      ]),
    );
  });

  it('declares capabilities honestly', async () => {
    const s = new S3Storage({ bucket: 'b', region: 'us-east-1', credentials: creds });
    expect(s.capabilities).toMatchObject({
      rangeReads: true,
      copy: true,
      signedUrls: true,
      metadata: true,
      contentType: true,
      sortedList: true,
      keyIsAlsoPrefix: true,
      beforeCommit: true,
    });
    expect(s.capabilities.maxObjectSize).toBe(5 * 1024 ** 4);
    await expectCode(s.put('k', 'x', { metadata: { sha256: 'mine' } }), 'INVALID_ARGUMENT');
  });
});
