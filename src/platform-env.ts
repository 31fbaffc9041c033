/**
 * Buckets that hosting platforms attach to an app, found by the variables
 * they inject. Kept apart from config.ts so env detection can move into the
 * adapters (issue 17) in one piece.
 *
 * - Fly.io + Tigris (`fly storage create`): BUCKET_NAME, AWS_ENDPOINT_URL_S3
 *   (https://fly.storage.tigris.dev), AWS_REGION=auto, AWS_ACCESS_KEY_ID,
 *   AWS_SECRET_ACCESS_KEY.
 * - Railway buckets (the "AWS SDK" variable preset): AWS_S3_BUCKET_NAME,
 *   AWS_ENDPOINT_URL (https://storage.railway.app), AWS_DEFAULT_REGION,
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
 */
import type { S3Config, StorageConfig } from './config.js';
import { StowageError } from './errors.js';
import { registerSecret } from './redact.js';

export interface PlatformStorage {
  config: StorageConfig & { adapter: 's3' };
  /** For diagnostics; never contains secrets. */
  source: string;
}

/** The first platform bucket the variables describe, if any. */
export function platformStorage(env: NodeJS.ProcessEnv): PlatformStorage | undefined {
  return flyTigris(env) ?? railwayBucket(env);
}

function flyTigris(env: NodeJS.ProcessEnv): PlatformStorage | undefined {
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  if (!env.BUCKET_NAME || !endpoint || !hostEndsWith(endpoint, 'tigris.dev')) return undefined;
  const source = 'Fly.io Tigris (BUCKET_NAME, AWS_ENDPOINT_URL_S3)';
  return {
    source,
    config: {
      adapter: 's3',
      options: {
        bucket: env.BUCKET_NAME,
        endpoint,
        region: env.AWS_REGION ?? 'auto',
        credentials: platformCredentials(env, 'Fly.io Tigris'),
        preset: 'tigris',
      },
    },
  };
}

function railwayBucket(env: NodeJS.ProcessEnv): PlatformStorage | undefined {
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
  return {
    source: 'Railway bucket (AWS_S3_BUCKET_NAME, AWS_ENDPOINT_URL)',
    config: { adapter: 's3', options },
  };
}

/** Platforms inject both keys; a missing one is named rather than left to the SDK's chain. */
function platformCredentials(env: NodeJS.ProcessEnv, platform: string) {
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
    if (!env[name]) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        `${platform} detected but ${name} is not set; check the variables the platform injects`,
      );
    }
  }
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY as string;
  registerSecret(secretAccessKey);
  return { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey };
}

function hostEndsWith(endpoint: string, domain: string): boolean {
  try {
    const host = new URL(endpoint).hostname.toLowerCase();
    return host === domain || host.endsWith(`.${domain}`);
  } catch {
    return false;
  }
}
