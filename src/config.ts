import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StowageError } from './errors.js';
import { normalisePrefix } from './keys.js';
import { registerSecret } from './redact.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of S3Storage that configuration can set. */
export interface S3Config {
  bucket: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Omitted: the AWS SDK's default chain (env, profile, instance role). */
  credentials?: S3Credentials;
  /** Public or CDN base URL for url() without expiresIn. */
  publicBaseUrl?: string;
  /** Known S3-compatible stores: adjusts defaults (see the S3 section of the README). */
  preset?: string;
}

/** Options of CloudinaryStorage that configuration can set. */
export interface CloudinaryConfig {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** Folder under which keys become public_ids. */
  folder?: string;
  /** Extra SDK settings from the URL query (upload_prefix, secure_distribution, private_cdn, …). */
  options?: Record<string, string>;
}

export interface LocalConfig {
  root: string;
  baseUrl?: string;
}

export type StorageConfig =
  | { adapter: 'local'; options: LocalConfig }
  | { adapter: 'memory'; options: { baseUrl?: string } }
  | { adapter: 's3'; options: S3Config }
  | { adapter: 'cloudinary'; options: CloudinaryConfig };

export type ResolvedConfig = StorageConfig & {
  /** Where the configuration came from, for diagnostics (never contains secrets). */
  source: string;
};

/** The local directory used when nothing else is configured. */
export const DEFAULT_LOCAL_ROOT = './uploads';

/**
 * Resolves storage configuration, first match wins: the argument,
 * STOWAGE_URL, Heroku add-on variables (Bucketeer, Cloudcube, Cloudinary),
 * AWS_* with S3_BUCKET, else local disk.
 */
export function resolveStorageConfig(url?: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (url !== undefined) {
    if (typeof url !== 'string' || url.trim() === '') {
      throw new StowageError(
        'INVALID_ARGUMENT',
        'createStorage(url) needs a non-empty string such as "s3://bucket/prefix" or "file:./uploads"',
      );
    }
    return { ...withAddonCredentials(parseStorageUrl(url), env), source: 'argument' };
  }
  if (env.STOWAGE_URL)
    return { ...withAddonCredentials(parseStorageUrl(env.STOWAGE_URL), env), source: 'STOWAGE_URL' };
  if (env.BUCKETEER_BUCKET_NAME) return { ...fromBucketeer(env), source: 'Bucketeer add-on (BUCKETEER_*)' };
  if (env.CLOUDCUBE_URL) return { ...fromCloudcube(env), source: 'Cloudcube add-on (CLOUDCUBE_*)' };
  if (env.CLOUDINARY_URL) return { ...parseStorageUrl(env.CLOUDINARY_URL), source: 'CLOUDINARY_URL' };
  const bucket = env.S3_BUCKET ?? env.S3_BUCKET_NAME;
  if (bucket) return { ...fromAwsEnv(bucket, env), source: 'AWS_* with S3_BUCKET' };
  return { adapter: 'local', options: { root: resolve(DEFAULT_LOCAL_ROOT) }, source: 'default (local disk)' };
}

/**
 * An s3:// URL without credentials (as stowage.lock.json stores it) gets the
 * credentials of a Heroku add-on that names the same bucket, so a boot-time
 * restore works on Bucketeer and Cloudcube without AWS_* variables.
 */
function withAddonCredentials(config: StorageConfig, env: NodeJS.ProcessEnv): StorageConfig {
  if (config.adapter !== 's3' || config.options.credentials) return config;
  for (const [present, build] of [
    [env.BUCKETEER_BUCKET_NAME, fromBucketeer],
    [env.CLOUDCUBE_URL, fromCloudcube],
  ] as const) {
    if (!present) continue;
    let addon: StorageConfig;
    try {
      addon = build(env);
    } catch {
      continue; // Incomplete add-on variables: they cannot lend credentials; the URL given stands.
    }
    if (
      addon.adapter === 's3' &&
      addon.options.bucket === config.options.bucket &&
      addon.options.credentials
    ) {
      const options: S3Config = { ...config.options, credentials: addon.options.credentials };
      if (!options.region && addon.options.region) options.region = addon.options.region;
      return { adapter: 's3', options };
    }
  }
  return config;
}

/** Parses a storage URL: file:…, memory://, s3://…, cloudinary://…. */
export function parseStorageUrl(raw: string): StorageConfig {
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'file':
      return { adapter: 'local', options: parseFileUrl(text) };
    case 'memory':
      return { adapter: 'memory', options: {} };
    case 's3':
      return { adapter: 's3', options: parseS3Url(text) };
    case 'cloudinary':
      return { adapter: 'cloudinary', options: parseCloudinaryUrl(text) };
    default:
      throw new StowageError(
        'INVALID_ARGUMENT',
        `unsupported storage URL scheme ${scheme ? `"${scheme}:"` : '(none)'}; use file:./dir, memory://, s3://bucket/prefix or cloudinary://key:secret@cloud`,
      );
  }
}

function parseFileUrl(text: string): LocalConfig {
  const [pathPart = '', query = ''] = text.slice('file:'.length).split('?', 2);
  const params = new URLSearchParams(query);
  let root: string;
  if (pathPart.startsWith('//')) root = fileURLToPath(`file:${pathPart}`);
  else root = decodeURIComponent(pathPart);
  if (!root) throw new StowageError('INVALID_ARGUMENT', 'file: URL needs a directory, e.g. file:./uploads');
  const config: LocalConfig = { root: isAbsolute(root) ? root : resolve(root) };
  const baseUrl = params.get('baseUrl');
  if (baseUrl) config.baseUrl = baseUrl;
  return config;
}

function parseUrl(text: string, example: string): URL {
  try {
    return new URL(text);
  } catch {
    // The text may hold a secret: never echo it, nor keep Node's error as the
    // cause (its `input` field holds the whole URL).
    throw new StowageError('INVALID_ARGUMENT', `malformed storage URL; expected the form ${example}`);
  }
}

function parseS3Url(text: string): S3Config {
  const url = parseUrl(text, 's3://bucket/prefix?region=…&endpoint=…');
  const bucket = decodeURIComponent(url.hostname);
  if (!bucket) throw new StowageError('INVALID_ARGUMENT', 's3:// URL needs a bucket: s3://bucket/prefix');
  const config: S3Config = { bucket };
  const prefix = normalisePrefix(decodeURIComponent(url.pathname));
  if (prefix) config.prefix = prefix;
  if (url.username && url.password) {
    config.credentials = {
      accessKeyId: decodeURIComponent(url.username),
      secretAccessKey: decodeURIComponent(url.password),
    };
    registerSecret(config.credentials.secretAccessKey);
  } else if (url.username || url.password) {
    // Half a credential would silently fall back to the SDK's default chain: another account, maybe.
    throw new StowageError(
      'INVALID_ARGUMENT',
      's3:// URL credentials need both parts: s3://ACCESS_KEY_ID:SECRET_ACCESS_KEY@bucket (percent-encode ":", "@" and "/" in them)',
    );
  }
  const p = url.searchParams;
  const region = p.get('region');
  if (region) config.region = region;
  const endpoint = p.get('endpoint');
  if (endpoint) {
    config.endpoint = endpoint;
    registerUrlPassword(endpoint);
  }
  const pathStyle = p.get('forcePathStyle') ?? p.get('pathStyle');
  if (pathStyle !== null) config.forcePathStyle = pathStyle !== 'false' && pathStyle !== '0';
  const publicBaseUrl = p.get('publicUrl') ?? p.get('publicBaseUrl');
  if (publicBaseUrl) config.publicBaseUrl = publicBaseUrl;
  const preset = p.get('preset');
  if (preset) config.preset = preset;
  return config;
}

function parseCloudinaryUrl(text: string): CloudinaryConfig {
  const url = parseUrl(text, 'cloudinary://api_key:api_secret@cloud_name/folder');
  const cloudName = decodeURIComponent(url.hostname);
  const apiKey = decodeURIComponent(url.username);
  const apiSecret = decodeURIComponent(url.password);
  if (!cloudName || !apiKey || !apiSecret) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      'cloudinary:// URL needs key, secret and cloud: cloudinary://api_key:api_secret@cloud_name',
    );
  }
  registerSecret(apiSecret);
  const config: CloudinaryConfig = { cloudName, apiKey, apiSecret };
  const folder = normalisePrefix(decodeURIComponent(url.pathname));
  if (folder) config.folder = folder;
  const options = Object.fromEntries(url.searchParams.entries());
  if (Object.keys(options).length) config.options = options;
  return config;
}

function required(env: NodeJS.ProcessEnv, name: string, addon: string): string {
  const value = env[name];
  if (!value)
    throw new StowageError(
      'INVALID_ARGUMENT',
      `${addon} detected but ${name} is not set; check the add-on's config vars`,
    );
  return value;
}

function fromBucketeer(env: NodeJS.ProcessEnv): StorageConfig {
  const secretAccessKey = required(env, 'BUCKETEER_AWS_SECRET_ACCESS_KEY', 'Bucketeer');
  registerSecret(secretAccessKey);
  return {
    adapter: 's3',
    options: {
      bucket: required(env, 'BUCKETEER_BUCKET_NAME', 'Bucketeer'),
      region: env.BUCKETEER_AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: required(env, 'BUCKETEER_AWS_ACCESS_KEY_ID', 'Bucketeer'),
        secretAccessKey,
      },
      preset: 'bucketeer',
    },
  };
}

/** Cloudcube buckets are per region; the cube name is the prefix every key lives under. */
const CLOUDCUBE_REGIONS: Record<string, string> = {
  'cloud-cube': 'us-east-1',
  'cloud-cube-us2': 'us-east-1',
  'cloud-cube-eu': 'eu-west-1',
  'cloud-cube-eu2': 'eu-central-1',
  'cloud-cube-jp': 'ap-northeast-1',
};

function fromCloudcube(env: NodeJS.ProcessEnv): StorageConfig {
  const url = parseUrl(
    required(env, 'CLOUDCUBE_URL', 'Cloudcube'),
    'https://cloud-cube-us2.s3.amazonaws.com/cubename',
  );
  const bucket = url.hostname.split('.')[0] ?? '';
  const cube = normalisePrefix(url.pathname);
  if (!bucket || !cube)
    throw new StowageError(
      'INVALID_ARGUMENT',
      'CLOUDCUBE_URL must look like https://<bucket>.s3.amazonaws.com/<cube>',
    );
  const secretAccessKey = required(env, 'CLOUDCUBE_SECRET_ACCESS_KEY', 'Cloudcube');
  registerSecret(secretAccessKey);
  return {
    adapter: 's3',
    options: {
      bucket,
      prefix: cube,
      region: env.CLOUDCUBE_REGION ?? CLOUDCUBE_REGIONS[bucket] ?? 'us-east-1',
      credentials: { accessKeyId: required(env, 'CLOUDCUBE_ACCESS_KEY_ID', 'Cloudcube'), secretAccessKey },
      preset: 'cloudcube',
    },
  };
}

function fromAwsEnv(bucketAndPrefix: string, env: NodeJS.ProcessEnv): StorageConfig {
  const [bucket = '', ...rest] = bucketAndPrefix.split('/');
  const options: S3Config = { bucket };
  const prefix = normalisePrefix(rest.join('/'));
  if (prefix) options.prefix = prefix;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) options.region = region;
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) options.endpoint = endpoint;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    registerSecret(env.AWS_SECRET_ACCESS_KEY);
    options.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    if (env.AWS_SESSION_TOKEN) {
      registerSecret(env.AWS_SESSION_TOKEN);
      options.credentials.sessionToken = env.AWS_SESSION_TOKEN;
    }
  }
  return { adapter: 's3', options };
}

/** A password inside a URL given as a parameter (an endpoint with userinfo) is a secret too. */
function registerUrlPassword(value: string): void {
  try {
    const password = new URL(value).password;
    if (password) registerSecret(decodeURIComponent(password));
  } catch {
    // Not a URL: nothing to register; the adapter reports the bad endpoint.
  }
}
