import { resolve } from 'node:path';
import { StowageError } from './errors.js';
import { normalisePrefix } from './keys.js';
import { platformStorage } from './platform-env.js';
import { registerSecret } from './redact.js';
import { parseStorageUrlText, parseUrlText } from './storage-url.js';

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
 * platform buckets (Fly.io Tigris, Railway: platform-env.ts), AWS_* with
 * S3_BUCKET, else local disk. A URL without credentials gets
 * them from lendCredentials().
 */
export function resolveStorageConfig(url?: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (url !== undefined) {
    if (typeof url !== 'string' || url.trim() === '') {
      throw new StowageError(
        'INVALID_ARGUMENT',
        'createStorage(url) needs a non-empty string such as "s3://bucket/prefix" or "file:./uploads"',
      );
    }
    return { ...fromUrl(url, env), source: 'argument' };
  }
  if (env.STOWAGE_URL) return { ...fromUrl(env.STOWAGE_URL, env), source: 'STOWAGE_URL' };
  if (env.BUCKETEER_BUCKET_NAME) return { ...fromBucketeer(env), source: 'Bucketeer add-on (BUCKETEER_*)' };
  if (env.CLOUDCUBE_URL) return { ...fromCloudcube(env), source: 'Cloudcube add-on (CLOUDCUBE_*)' };
  if (env.CLOUDINARY_URL) return { ...parseStorageUrl(env.CLOUDINARY_URL), source: 'CLOUDINARY_URL' };
  const platform = platformStorage(env);
  if (platform) return { ...platform.config, source: platform.source };
  const bucket = env.S3_BUCKET ?? env.S3_BUCKET_NAME;
  if (bucket) return { ...fromAwsEnv(bucket, env), source: 'AWS_* with S3_BUCKET' };
  return { adapter: 'local', options: { root: resolve(DEFAULT_LOCAL_ROOT) }, source: 'default (local disk)' };
}

/** Parses a storage URL: file:…, memory://, s3://…, cloudinary://…; credentials as given. */
export function parseStorageUrl(raw: string): StorageConfig {
  return parseStorageUrlText(raw);
}

function fromUrl(url: string, env: NodeJS.ProcessEnv): StorageConfig {
  const config = lendCredentials(parseStorageUrlText(url, 'optional'), env);
  if (config.adapter === 'cloudinary' && !config.options.apiKey) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `cloudinary://${config.options.cloudName} has no credentials: give them in the URL (cloudinary://api_key:api_secret@cloud_name) or in STOWAGE_URL or CLOUDINARY_URL naming the same cloud`,
    );
  }
  return config;
}

/**
 * Credentials for a URL that names a store but carries none (stowage.lock.json
 * stores its URL without them). Lent, first match wins, by configuration
 * naming the same store: STOWAGE_URL (same bucket and endpoint, or same
 * cloud), then the Heroku add-ons (Bucketeer, Cloudcube, Cloudinary); for
 * S3 then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from `env`; else none, and
 * the AWS SDK's own chain (profile, instance role) applies. The one place
 * every entry point (createStorage, the loader, the CLI) gets them from.
 */
export function lendCredentials(config: StorageConfig, env: NodeJS.ProcessEnv): StorageConfig {
  switch (config.adapter) {
    case 's3':
      return config.options.credentials ? config : { adapter: 's3', options: lendS3(config.options, env) };
    case 'cloudinary':
      return config.options.apiKey
        ? config
        : { adapter: 'cloudinary', options: lendCloudinary(config.options, env) };
    default:
      return config;
  }
}

function lendS3(config: S3Config, env: NodeJS.ProcessEnv): S3Config {
  const lenders: Array<() => S3Config | undefined> = [
    () => s3UrlIn(env, 'STOWAGE_URL'),
    () => (env.BUCKETEER_BUCKET_NAME ? addon(fromBucketeer, env) : undefined),
    () => (env.CLOUDCUBE_URL ? addon(fromCloudcube, env) : undefined),
  ];
  for (const lender of lenders) {
    const other = lender();
    if (other?.credentials && sameS3Store(config, other))
      return withLent(config, other.credentials, other.region);
  }
  const aws = awsEnvCredentials(env);
  return aws ? withLent(config, aws, env.AWS_REGION ?? env.AWS_DEFAULT_REGION) : config;
}

function withLent(config: S3Config, credentials: S3Credentials, region: string | undefined): S3Config {
  const options: S3Config = { ...config, credentials };
  if (!options.region && region) options.region = region;
  return options;
}

/** The s3:// configuration in a variable, if it holds one. A malformed one is an error, named. */
function s3UrlIn(env: NodeJS.ProcessEnv, name: string): S3Config | undefined {
  const config = urlIn(env, name);
  return config?.adapter === 's3' ? config.options : undefined;
}

function urlIn(env: NodeJS.ProcessEnv, name: string): StorageConfig | undefined {
  const value = env[name];
  if (!value) return undefined;
  try {
    return parseStorageUrlText(value, 'optional');
  } catch (err) {
    throw new StowageError('INVALID_ARGUMENT', `${name}: ${(err as Error).message}`);
  }
}

/** Incomplete add-on variables lend nothing: the URL given still stands. */
function addon(
  build: (env: NodeJS.ProcessEnv) => StorageConfig,
  env: NodeJS.ProcessEnv,
): S3Config | undefined {
  try {
    const config = build(env);
    return config.adapter === 's3' ? config.options : undefined;
  } catch {
    return undefined;
  }
}

/** Same bucket behind the same endpoint (AWS when none): credentials for one are for the other. */
function sameS3Store(a: S3Config, b: S3Config): boolean {
  return a.bucket === b.bucket && endpointIdentity(a.endpoint) === endpointIdentity(b.endpoint);
}

function endpointIdentity(endpoint: string | undefined): string {
  if (!endpoint) return '';
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return endpoint;
  }
}

function lendCloudinary(config: CloudinaryConfig, env: NodeJS.ProcessEnv): CloudinaryConfig {
  for (const name of ['STOWAGE_URL', 'CLOUDINARY_URL']) {
    const other = urlIn(env, name);
    if (
      other?.adapter === 'cloudinary' &&
      other.options.cloudName === config.cloudName &&
      other.options.apiKey
    ) {
      return { ...config, apiKey: other.options.apiKey, apiSecret: other.options.apiSecret };
    }
  }
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
  const url = parseUrlText(
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
  const credentials = awsEnvCredentials(env);
  if (credentials) options.credentials = credentials;
  return { adapter: 's3', options };
}

function awsEnvCredentials(env: NodeJS.ProcessEnv): S3Credentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  registerSecret(env.AWS_SECRET_ACCESS_KEY);
  const credentials: S3Credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  };
  if (env.AWS_SESSION_TOKEN) {
    registerSecret(env.AWS_SESSION_TOKEN);
    credentials.sessionToken = env.AWS_SESSION_TOKEN;
  }
  return credentials;
}
