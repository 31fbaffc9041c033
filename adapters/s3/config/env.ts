/**
 * Variables that describe an S3 bucket: Heroku add-ons (Bucketeer,
 * Cloudcube), buckets a platform injects (Fly.io Tigris, Railway), and the
 * AWS SDK's own variables with S3_BUCKET.
 *
 * - Fly.io + Tigris (`fly storage create`): BUCKET_NAME, AWS_ENDPOINT_URL_S3
 *   (https://fly.storage.tigris.dev), AWS_REGION=auto, AWS_ACCESS_KEY_ID,
 *   AWS_SECRET_ACCESS_KEY.
 * - Railway buckets (the "AWS SDK" variable preset): AWS_S3_BUCKET_NAME,
 *   AWS_ENDPOINT_URL (https://storage.railway.app), AWS_DEFAULT_REGION,
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
 */
import type { EnvSource } from '../../../src/config/adapter-definition.js';
import { parseUrlText } from '../../../src/config/url-text.js';
import { StowageError } from '../../../src/core/errors.js';
import { normalisePrefix } from '../../../src/core/keys.js';
import type { S3Config, S3Credentials } from './types.js';

export const bucketeer: EnvSource<S3Config> = {
  kind: 'addon',
  source: 'Bucketeer add-on (BUCKETEER_*)',
  detect(env) {
    if (!env.BUCKETEER_BUCKET_NAME) return undefined;
    const secretAccessKey = required(env, 'BUCKETEER_AWS_SECRET_ACCESS_KEY', 'Bucketeer');
    return {
      bucket: required(env, 'BUCKETEER_BUCKET_NAME', 'Bucketeer'),
      region: env.BUCKETEER_AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: required(env, 'BUCKETEER_AWS_ACCESS_KEY_ID', 'Bucketeer'),
        secretAccessKey,
      },
      preset: 'bucketeer',
    };
  },
};

/** Cloudcube buckets are per region; the cube name is the prefix every key lives under. */
const CLOUDCUBE_REGIONS: Record<string, string> = {
  'cloud-cube': 'us-east-1',
  'cloud-cube-us2': 'us-east-1',
  'cloud-cube-eu': 'eu-west-1',
  'cloud-cube-eu2': 'eu-central-1',
  'cloud-cube-jp': 'ap-northeast-1',
};

export const cloudcube: EnvSource<S3Config> = {
  kind: 'addon',
  source: 'Cloudcube add-on (CLOUDCUBE_*)',
  detect(env) {
    if (!env.CLOUDCUBE_URL) return undefined;
    const url = parseUrlText(env.CLOUDCUBE_URL, 'https://cloud-cube-us2.s3.amazonaws.com/cubename');
    const bucket = url.hostname.split('.')[0] ?? '';
    const cube = normalisePrefix(url.pathname);
    if (!bucket || !cube)
      throw new StowageError(
        'INVALID_ARGUMENT',
        'CLOUDCUBE_URL must look like https://<bucket>.s3.amazonaws.com/<cube>',
      );
    const secretAccessKey = required(env, 'CLOUDCUBE_SECRET_ACCESS_KEY', 'Cloudcube');
    return {
      bucket,
      prefix: cube,
      region: env.CLOUDCUBE_REGION ?? CLOUDCUBE_REGIONS[bucket] ?? 'us-east-1',
      credentials: { accessKeyId: required(env, 'CLOUDCUBE_ACCESS_KEY_ID', 'Cloudcube'), secretAccessKey },
      preset: 'cloudcube',
    };
  },
};

export const flyTigris: EnvSource<S3Config> = {
  kind: 'platform',
  source: 'Fly.io Tigris (BUCKET_NAME, AWS_ENDPOINT_URL_S3)',
  detect(env) {
    const endpoint = env.AWS_ENDPOINT_URL_S3;
    if (!env.BUCKET_NAME || !endpoint || !hostEndsWith(endpoint, 'tigris.dev')) return undefined;
    return {
      bucket: env.BUCKET_NAME,
      endpoint,
      region: env.AWS_REGION ?? 'auto',
      credentials: platformCredentials(env, 'Fly.io Tigris'),
      preset: 'tigris',
    };
  },
};

export const railwayBucket: EnvSource<S3Config> = {
  kind: 'platform',
  source: 'Railway bucket (AWS_S3_BUCKET_NAME, AWS_ENDPOINT_URL)',
  detect(env) {
    const endpoint = env.AWS_ENDPOINT_URL;
    if (!env.AWS_S3_BUCKET_NAME || !endpoint) return undefined;
    const options: S3Config = {
      bucket: env.AWS_S3_BUCKET_NAME,
      endpoint,
      region: env.AWS_DEFAULT_REGION ?? env.AWS_REGION ?? 'auto',
      credentials: platformCredentials(env, 'A bucket in AWS_S3_BUCKET_NAME'),
    };
    // The variable names are a convention beyond Railway: its profile only for its endpoint.
    if (hostEndsWith(endpoint, 'railway.app')) options.preset = 'railway';
    return options;
  },
};

export const awsEnv: EnvSource<S3Config> = {
  kind: 'ambient',
  source: 'AWS_* with S3_BUCKET',
  detect(env) {
    const bucketAndPrefix = env.S3_BUCKET ?? env.S3_BUCKET_NAME;
    if (!bucketAndPrefix) return undefined;
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
    return options;
  },
};

/** AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), when both are set. */
export function awsEnvCredentials(env: NodeJS.ProcessEnv): S3Credentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  const credentials: S3Credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  };
  if (env.AWS_SESSION_TOKEN) credentials.sessionToken = env.AWS_SESSION_TOKEN;
  return credentials;
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

/** Platforms inject both keys; a missing one is named rather than left to the SDK's chain. */
function platformCredentials(env: NodeJS.ProcessEnv, platform: string): S3Credentials {
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
    if (!env[name]) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        `${platform} detected but ${name} is not set; check the variables the platform injects`,
      );
    }
  }
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
  };
}

function hostEndsWith(endpoint: string, domain: string): boolean {
  try {
    const host = new URL(endpoint).hostname.toLowerCase();
    return host === domain || host.endsWith(`.${domain}`);
  } catch {
    return false;
  }
}
