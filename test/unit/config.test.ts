import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { manifestUrl } from '../../src/cli/storage-target.js';
import { createStorage } from '../../src/config/create-storage.js';
import { lendCredentials, parseStorageUrl, resolveStorageConfig } from '../../src/config/resolve.js';
import { redact } from '../../src/util/redact.js';
import { expectCode } from '../helpers/streams.js';

describe('parseStorageUrl', () => {
  it('parses file: URLs, relative and absolute', () => {
    expect(parseStorageUrl('file:./uploads')).toEqual({
      adapter: 'local',
      options: { root: resolve('uploads') },
    });
    expect(parseStorageUrl('file:///var/data?baseUrl=/files')).toEqual({
      adapter: 'local',
      options: { root: '/var/data', baseUrl: '/files' },
    });
  });
  it('parses s3:// URLs with prefix, query settings and credentials', () => {
    expect(
      parseStorageUrl(
        's3://AKID:s3cr3t%2Fkey@my-bucket/some/prefix/?region=eu-west-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true&preset=minio',
      ),
    ).toEqual({
      adapter: 's3',
      options: {
        bucket: 'my-bucket',
        prefix: 'some/prefix',
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
        preset: 'minio',
        credentials: { accessKeyId: 'AKID', secretAccessKey: 's3cr3t/key' },
      },
    });
  });
  it('parses cloudinary:// URLs with folder and SDK options', () => {
    expect(
      parseStorageUrl('cloudinary://123:abcSECRETxyz@demo/app/uploads?upload_prefix=http://127.0.0.1:1'),
    ).toEqual({
      adapter: 'cloudinary',
      options: {
        cloudName: 'demo',
        apiKey: '123',
        apiSecret: 'abcSECRETxyz',
        folder: 'app/uploads',
        options: { upload_prefix: 'http://127.0.0.1:1' },
      },
    });
  });
  it('parses memory://', () => {
    expect(parseStorageUrl('memory://')).toEqual({ adapter: 'memory', options: {} });
  });
  it('refuses unknown schemes and malformed URLs without echoing secrets', async () => {
    await expectCode(async () => parseStorageUrl('ftp://x'), 'INVALID_ARGUMENT');
    await expectCode(async () => parseStorageUrl('nothing'), 'INVALID_ARGUMENT');
    await expectCode(async () => parseStorageUrl('s3:///prefix-only'), 'INVALID_ARGUMENT');
    const err = await expectCode(
      async () => parseStorageUrl('cloudinary://onlykey@cloud'),
      'INVALID_ARGUMENT',
    );
    expect(err.message).not.toContain('onlykey@');
  });
  it('refuses half an s3:// credential instead of falling back to other credentials', async () => {
    for (const url of ['s3://KEYONLY@bucket', 's3://:secretonly@bucket']) {
      const err = await expectCode(async () => parseStorageUrl(url), 'INVALID_ARGUMENT');
      expect(err.message).toContain('both parts');
      expect(err.message).not.toContain('secretonly');
    }
  });
  it('treats a password inside the endpoint parameter as a secret', () => {
    const config = parseStorageUrl(
      `s3://bucket?endpoint=${encodeURIComponent('https://minio:endpointpw77@minio.local:9000')}`,
    );
    expect(config).toMatchObject({
      adapter: 's3',
      options: { endpoint: 'https://minio:endpointpw77@minio.local:9000' },
    });
    expect(redact('connect https://minio:endpointpw77@minio.local failed: endpointpw77')).not.toContain(
      'endpointpw77',
    );
  });
});

describe('storage URL query parameters', () => {
  const refused = async (url: string) =>
    (await expectCode(async () => parseStorageUrl(url), 'INVALID_ARGUMENT')).message;

  it('refuses an unknown parameter with the nearest valid name, for every scheme', async () => {
    expect(await refused('s3://bucket?regoin=eu-west-1')).toContain(
      'unknown parameter "regoin" (did you mean region?)',
    );
    expect(await refused('s3://bucket?forcepathstyle=true')).toContain('(did you mean forcePathStyle?)');
    expect(await refused('s3://bucket?endpiont=http://x')).toContain('(did you mean endpoint?)');
    expect(await refused('file:./uploads?baseurl=/files')).toContain('(did you mean baseUrl?)');
    expect(await refused('memory://?base=/m')).toContain('unknown parameter "base"');
    expect(await refused('cloudinary://1:cldsecret99@demo?upload_prefx=http://x')).toContain(
      '(did you mean upload_prefix?)',
    );
    const far = await refused('s3://bucket?colour=blue');
    expect(far).not.toContain('did you mean');
    expect(far).toContain('known: region, endpoint, forcePathStyle');
  });
  it('refuses bad values when the URL is read, without echoing them', async () => {
    expect(await refused('s3://bucket?endpoint=not-a-url')).toContain('endpoint must be an http(s) URL');
    expect(await refused('s3://bucket?endpoint=localhost:9000')).toContain('endpoint must be an http(s) URL');
    const withPassword = await refused(`s3://bucket?endpoint=${encodeURIComponent('ftp://u:endpw77@host')}`);
    expect(withPassword).not.toContain('endpw77');
    expect(await refused('s3://bucket?forcePathStyle=yes')).toContain('forcePathStyle must be true or false');
    expect(await refused('s3://bucket?region=eu%20west')).toContain('region must be');
    expect(await refused('s3://bucket?preset=nope')).toContain('unknown preset "nope"');
    expect(await refused('s3://bucket?publicUrl=cdn.example.com')).toContain('publicUrl must be');
    expect(await refused('s3://bucket?region=a&region=b')).toContain('given twice');
    expect(await refused('s3://bucket?pathStyle=true&forcePathStyle=true')).toContain('not both');
  });
  it('accepts every documented parameter', () => {
    expect(
      parseStorageUrl(
        's3://b?pathStyle=0&publicBaseUrl=https://cdn.example.com&preset=R2&endpoint=https://x.r2.dev',
      ),
    ).toEqual({
      adapter: 's3',
      options: {
        bucket: 'b',
        forcePathStyle: false,
        publicBaseUrl: 'https://cdn.example.com',
        preset: 'R2',
        endpoint: 'https://x.r2.dev',
      },
    });
    expect(parseStorageUrl('memory://?baseUrl=/m')).toEqual({
      adapter: 'memory',
      options: { baseUrl: '/m' },
    });
    expect(
      parseStorageUrl(
        'cloudinary://1:cldsecret99@demo?secure=true&cname=img.example.com&private_cdn=false&secure_distribution=x&cdn_subdomain=1&signature_algorithm=sha256&sign_url=1&invalidate=1&chunk_size=6000000',
      ).options,
    ).toMatchObject({ options: { cname: 'img.example.com', chunk_size: '6000000' } });
  });
});

describe('manifestUrl (what migrate-assets commits to stowage.lock.json)', () => {
  it("keeps no credentials: neither the URL's own nor those of a URL in its query", () => {
    expect(manifestUrl('s3://KEY:SECRET99@bucket/assets?region=eu-west-1')).toBe(
      's3://bucket/assets?region=eu-west-1',
    );
    const withEndpoint = manifestUrl(
      `s3://bucket/p?endpoint=${encodeURIComponent('https://minioadmin:sekret77@minio.local:9000')}&forcePathStyle=true`,
    );
    expect(withEndpoint).not.toContain('sekret77');
    expect(withEndpoint).not.toContain('minioadmin');
    const again = parseStorageUrl(withEndpoint);
    expect(again).toMatchObject({
      adapter: 's3',
      options: { bucket: 'bucket', prefix: 'p', endpoint: 'https://minio.local:9000', forcePathStyle: true },
    });
    expect(manifestUrl('s3://bucket/p?region=us-east-1')).toBe('s3://bucket/p?region=us-east-1');
  });
});

describe('resolveStorageConfig order', () => {
  const s3Env = {
    S3_BUCKET: 'aws-bucket/pre',
    AWS_ACCESS_KEY_ID: 'AKIAAWS',
    AWS_SECRET_ACCESS_KEY: 'awssecretvalue',
    AWS_REGION: 'us-west-2',
  };
  const bucketeer = {
    BUCKETEER_BUCKET_NAME: 'bucketeer-123',
    BUCKETEER_AWS_ACCESS_KEY_ID: 'AKIABKT',
    BUCKETEER_AWS_SECRET_ACCESS_KEY: 'bucketeersecret',
    BUCKETEER_AWS_REGION: 'eu-west-1',
  };
  const cloudcube = {
    CLOUDCUBE_URL: 'https://cloud-cube-eu.s3.amazonaws.com/abc123cube',
    CLOUDCUBE_ACCESS_KEY_ID: 'AKIACUBE',
    CLOUDCUBE_SECRET_ACCESS_KEY: 'cubesecretvalue',
  };

  it('takes the argument first', () => {
    const c = resolveStorageConfig('memory://', { STOWAGE_URL: 'file:./x', ...bucketeer });
    expect(c.adapter).toBe('memory');
    expect(c.source).toBe('argument');
  });
  it('then STOWAGE_URL', () => {
    expect(resolveStorageConfig(undefined, { STOWAGE_URL: 'memory://', ...bucketeer }).source).toBe(
      'STOWAGE_URL',
    );
  });
  it('then Bucketeer', () => {
    const c = resolveStorageConfig(undefined, { ...bucketeer, ...cloudcube, ...s3Env });
    expect(c).toEqual({
      adapter: 's3',
      source: 'Bucketeer add-on (BUCKETEER_*)',
      options: {
        bucket: 'bucketeer-123',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIABKT', secretAccessKey: 'bucketeersecret' },
        preset: 'bucketeer',
      },
    });
  });
  it('then Cloudcube, with the cube as prefix and the region from the bucket', () => {
    const c = resolveStorageConfig(undefined, { ...cloudcube, ...s3Env });
    expect(c.adapter).toBe('s3');
    expect(c.options).toMatchObject({
      bucket: 'cloud-cube-eu',
      prefix: 'abc123cube',
      region: 'eu-west-1',
      preset: 'cloudcube',
    });
  });
  it('then CLOUDINARY_URL', () => {
    const c = resolveStorageConfig(undefined, {
      CLOUDINARY_URL: 'cloudinary://1:secretsecret@cloud',
      ...s3Env,
    });
    expect(c.adapter).toBe('cloudinary');
  });
  it('then AWS_* with S3_BUCKET', () => {
    const c = resolveStorageConfig(undefined, { ...s3Env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' });
    expect(c).toEqual({
      adapter: 's3',
      source: 'AWS_* with S3_BUCKET',
      options: {
        bucket: 'aws-bucket',
        prefix: 'pre',
        region: 'us-west-2',
        endpoint: 'http://127.0.0.1:4569',
        credentials: { accessKeyId: 'AKIAAWS', secretAccessKey: 'awssecretvalue' },
      },
    });
  });
  it('else local disk', () => {
    expect(resolveStorageConfig(undefined, {})).toEqual({
      adapter: 'local',
      source: 'default (local disk)',
      options: { root: resolve('uploads') },
    });
  });
  it('names the missing add-on variable', async () => {
    const err = await expectCode(
      async () => resolveStorageConfig(undefined, { BUCKETEER_BUCKET_NAME: 'b' }),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toContain('BUCKETEER_AWS_');
  });
  it('gives a credential-less s3:// URL the credentials of the add-on naming the same bucket', () => {
    const c = resolveStorageConfig('s3://bucketeer-123/assets', bucketeer);
    expect(c.options).toMatchObject({
      bucket: 'bucketeer-123',
      prefix: 'assets',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIABKT', secretAccessKey: 'bucketeersecret' },
    });
    const other = resolveStorageConfig('s3://another-bucket/assets', bucketeer);
    expect(other.options).not.toHaveProperty('credentials');
    const cube = resolveStorageConfig(undefined, {
      ...cloudcube,
      STOWAGE_URL: 's3://cloud-cube-eu/abc123cube',
    });
    expect(cube.options).toMatchObject({ credentials: { accessKeyId: 'AKIACUBE' } });
  });
  it('an explicit URL stands when leftover add-on variables are incomplete', () => {
    const c = resolveStorageConfig(undefined, {
      STOWAGE_URL: 's3://mine/assets',
      BUCKETEER_BUCKET_NAME: 'mine',
    });
    expect(c.options).toMatchObject({ bucket: 'mine', prefix: 'assets' });
    expect(c.options).not.toHaveProperty('credentials');
  });
  it('refuses an empty argument', async () => {
    await expectCode(async () => resolveStorageConfig('  ', {}), 'INVALID_ARGUMENT');
  });
});

describe("lendCredentials (a lock file's URL carries none)", () => {
  const endpoint = encodeURIComponent('http://127.0.0.1:9000');
  const lock = `s3://bucket/assets?region=eu-west-1&endpoint=${endpoint}&forcePathStyle=true`;
  const withKeys = `s3://AKIDURL:urlsecret99@bucket/elsewhere?endpoint=${endpoint}`;

  it('takes them from STOWAGE_URL naming the same bucket and endpoint, whatever its prefix', () => {
    const c = resolveStorageConfig(lock, { STOWAGE_URL: withKeys });
    expect(c.options).toEqual({
      bucket: 'bucket',
      prefix: 'assets',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDURL', secretAccessKey: 'urlsecret99' },
    });
  });
  it('an endpoint with its own user:password is still the same endpoint', () => {
    const inner = encodeURIComponent('http://minio:pw@127.0.0.1:9000/');
    const c = resolveStorageConfig(lock, {
      STOWAGE_URL: `s3://AKIDURL:urlsecret99@bucket?endpoint=${inner}`,
    });
    expect(c.options).toMatchObject({ credentials: { accessKeyId: 'AKIDURL' } });
  });
  it('never lends across buckets or endpoints', () => {
    for (const other of [
      `s3://AKIDURL:urlsecret99@other-bucket?endpoint=${endpoint}`,
      `s3://AKIDURL:urlsecret99@bucket?endpoint=${encodeURIComponent('http://127.0.0.1:9001')}`,
      's3://AKIDURL:urlsecret99@bucket',
    ]) {
      expect(resolveStorageConfig(lock, { STOWAGE_URL: other }).options).not.toHaveProperty('credentials');
    }
  });
  it('STOWAGE_URL first, then the add-on naming the bucket, then AWS_*', () => {
    const aws = {
      AWS_ACCESS_KEY_ID: 'AKIDAWS',
      AWS_SECRET_ACCESS_KEY: 'awssecret99',
      AWS_REGION: 'us-west-2',
    };
    const bucketeer = {
      BUCKETEER_BUCKET_NAME: 'bkt',
      BUCKETEER_AWS_ACCESS_KEY_ID: 'AKIDBKT',
      BUCKETEER_AWS_SECRET_ACCESS_KEY: 'bktsecret99',
    };
    const key = (url: string, env: NodeJS.ProcessEnv) =>
      (resolveStorageConfig(url, env).options as { credentials?: { accessKeyId: string } }).credentials
        ?.accessKeyId;
    expect(key('s3://bkt/a', { STOWAGE_URL: 's3://AKIDURL:urlsecret99@bkt', ...bucketeer, ...aws })).toBe(
      'AKIDURL',
    );
    expect(key('s3://bkt/a', { ...bucketeer, ...aws })).toBe('AKIDBKT');
    expect(key('s3://other/a', { ...bucketeer, ...aws })).toBe('AKIDAWS');
    expect(resolveStorageConfig('s3://other/a', aws).options).toMatchObject({ region: 'us-west-2' });
    expect(key('s3://other/a', {})).toBeUndefined();
  });
  it('credentials in the URL itself are never replaced', () => {
    const c = lendCredentials(parseStorageUrl('s3://OWN:ownsecret99@bucket'), {
      STOWAGE_URL: 's3://AKIDURL:urlsecret99@bucket',
    });
    expect(c.options).toMatchObject({ credentials: { accessKeyId: 'OWN' } });
  });
  it('a malformed STOWAGE_URL is named, not skipped', async () => {
    const err = await expectCode(
      async () => resolveStorageConfig(lock, { STOWAGE_URL: 's3://AKID:urlsecret99@bucket?regoin=x' }),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toMatch(/^STOWAGE_URL: /);
    expect(err.message).not.toContain('urlsecret99');
  });
  it('cloudinary: from STOWAGE_URL or CLOUDINARY_URL naming the same cloud, else a clear error', async () => {
    const c = resolveStorageConfig('cloudinary://demo/assets', {
      CLOUDINARY_URL: 'cloudinary://123:cldsecret99@demo',
    });
    expect(c.options).toEqual({
      cloudName: 'demo',
      apiKey: '123',
      apiSecret: 'cldsecret99',
      folder: 'assets',
    });
    const err = await expectCode(
      async () =>
        resolveStorageConfig('cloudinary://demo/assets', { CLOUDINARY_URL: 'cloudinary://1:s@other' }),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toContain('STOWAGE_URL or CLOUDINARY_URL naming the same cloud');
    await expectCode(async () => parseStorageUrl('cloudinary://demo/assets'), 'INVALID_ARGUMENT');
  });
});

describe('createStorage', () => {
  it('builds the adapter the configuration names', async () => {
    const memory = await createStorage('memory://');
    expect(memory.name).toBe('memory');
    await memory.put('a.txt', 'x');
    expect(await memory.exists('a.txt')).toBe(true);
    const local = await createStorage(undefined, {
      STOWAGE_URL: 'file:./node_modules/.cache/stowage-test-local',
      STOWAGE_EPHEMERAL_OK: '1',
    });
    expect(local.name).toBe('local');
  });
});

describe('platform buckets (Fly.io Tigris, Railway)', () => {
  const fly = {
    BUCKET_NAME: 'fly-bucket',
    AWS_ENDPOINT_URL_S3: 'https://fly.storage.tigris.dev',
    AWS_REGION: 'auto',
    AWS_ACCESS_KEY_ID: 'tid_fly',
    AWS_SECRET_ACCESS_KEY: 'tsec_flysecret99',
  };
  const railway = {
    AWS_S3_BUCKET_NAME: 'railway-bucket-ab12',
    AWS_ENDPOINT_URL: 'https://storage.railway.app',
    AWS_DEFAULT_REGION: 'auto',
    AWS_ACCESS_KEY_ID: 'tid_rail',
    AWS_SECRET_ACCESS_KEY: 'tsec_railsecret99',
  };

  it("Fly.io's Tigris variables become the tigris profile", () => {
    expect(resolveStorageConfig(undefined, fly)).toEqual({
      adapter: 's3',
      source: 'Fly.io Tigris (BUCKET_NAME, AWS_ENDPOINT_URL_S3)',
      options: {
        bucket: 'fly-bucket',
        endpoint: 'https://fly.storage.tigris.dev',
        region: 'auto',
        credentials: { accessKeyId: 'tid_fly', secretAccessKey: 'tsec_flysecret99' },
        preset: 'tigris',
      },
    });
  });

  it("Railway's bucket variables become the railway profile", () => {
    expect(resolveStorageConfig(undefined, railway)).toEqual({
      adapter: 's3',
      source: 'Railway bucket (AWS_S3_BUCKET_NAME, AWS_ENDPOINT_URL)',
      options: {
        bucket: 'railway-bucket-ab12',
        endpoint: 'https://storage.railway.app',
        region: 'auto',
        credentials: { accessKeyId: 'tid_rail', secretAccessKey: 'tsec_railsecret99' },
        preset: 'railway',
      },
    });
    // The same variable names elsewhere: that endpoint, no Railway profile.
    const other = resolveStorageConfig(undefined, { ...railway, AWS_ENDPOINT_URL: 'https://s3.example.com' });
    expect(other.options).not.toHaveProperty('preset');
    expect(other.options).toMatchObject({ endpoint: 'https://s3.example.com' });
  });

  it('come after STOWAGE_URL and the Heroku add-ons, before AWS_* with S3_BUCKET', () => {
    expect(resolveStorageConfig(undefined, { STOWAGE_URL: 'memory://', ...fly }).source).toBe('STOWAGE_URL');
    expect(
      resolveStorageConfig(undefined, {
        BUCKETEER_BUCKET_NAME: 'b',
        BUCKETEER_AWS_ACCESS_KEY_ID: 'AKIABKT',
        BUCKETEER_AWS_SECRET_ACCESS_KEY: 'bucketeersecret',
        ...fly,
      }).source,
    ).toBe('Bucketeer add-on (BUCKETEER_*)');
    expect(resolveStorageConfig(undefined, { S3_BUCKET: 'mine', ...fly }).source).toMatch(/Tigris/);
    expect(resolveStorageConfig(undefined, { ...fly, ...railway }).source).toMatch(/Tigris/);
  });

  it('a BUCKET_NAME without a Tigris endpoint is not taken for Tigris', () => {
    const c = resolveStorageConfig(undefined, { ...fly, AWS_ENDPOINT_URL_S3: 'https://s3.example.com' });
    expect(c.source).toBe('default (local disk)');
  });

  it('names a missing key instead of falling back to other credentials', async () => {
    const { AWS_SECRET_ACCESS_KEY: _, ...noSecret } = fly;
    const err = await expectCode(async () => resolveStorageConfig(undefined, noSecret), 'INVALID_ARGUMENT');
    expect(err.message).toMatch(/Fly\.io Tigris.*AWS_SECRET_ACCESS_KEY/);
  });

  it('a lock-file URL of the bucket gets its keys (AWS_*); the secret is redacted', () => {
    const lock = `s3://fly-bucket/assets?preset=tigris&endpoint=${encodeURIComponent('https://fly.storage.tigris.dev')}`;
    const c = resolveStorageConfig(lock, fly);
    expect(c.options).toMatchObject({ credentials: { accessKeyId: 'tid_fly' }, region: 'auto' });
    resolveStorageConfig(undefined, fly);
    expect(redact('boom tsec_flysecret99')).not.toContain('tsec_flysecret99');
  });

  it('createStorage() builds an S3Storage with the profile', async () => {
    const storage = await createStorage(undefined, fly);
    expect(storage).toBeInstanceOf(S3Storage);
    expect((storage as S3Storage).bucket).toBe('fly-bucket');
    expect(typeof storage.presignUpload).toBe('function');
  });
});
