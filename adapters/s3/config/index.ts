/**
 * The `s3:` scheme: URL grammar, the variables that describe a bucket, and
 * how a lock file's credential-less URL borrows keys. Loads no AWS SDK
 * module; load() imports the adapter through importPeer.
 */
import { defineAdapter } from '../../../src/config/adapter-definition.js';
import { hostIsStore } from '../../../src/config/url-text.js';
import { importPeer } from '../../../src/util/optional-peer.js';
import { S3_SDK } from '../peers.js';
import { awsEnv, awsEnvCredentials, bucketeer, cloudcube, flyTigris, railwayBucket } from './env.js';
import type { S3Config, S3Credentials } from './types.js';
import { s3FromUrl, s3Secrets, s3ToUrl } from './url.js';

export type { S3Config, S3Credentials } from './types.js';

export const s3Adapter = defineAdapter<S3Config>({
  scheme: 's3',
  example: 's3://bucket/prefix',
  fromUrl: s3FromUrl,
  toUrl: s3ToUrl,
  secrets: s3Secrets,
  fromEnv: [bucketeer, cloudcube, flyTigris, railwayBucket, awsEnv],
  credentials: {
    has: (options) => options.credentials !== undefined,
    borrow: (options, lender) =>
      lender.credentials && sameStore(options, lender)
        ? withLent(options, lender.credentials, lender.region)
        : undefined,
    ambient(options, env) {
      const aws = awsEnvCredentials(env);
      return aws ? withLent(options, aws, env.AWS_REGION ?? env.AWS_DEFAULT_REGION) : options;
    },
  },
  objectSource: { example: 's3://bucket/key', locate: (text) => hostIsStore(text, 's3') },
  async load() {
    const { S3Storage } = await importPeer(S3_SDK, () => import('../s3-storage.js'));
    return (options) => new S3Storage(options);
  },
});

function withLent(config: S3Config, credentials: S3Credentials, region: string | undefined): S3Config {
  const options: S3Config = { ...config, credentials };
  if (!options.region && region) options.region = region;
  return options;
}

/** Same bucket behind the same endpoint (AWS when none): credentials for one are for the other. */
function sameStore(a: S3Config, b: S3Config): boolean {
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
