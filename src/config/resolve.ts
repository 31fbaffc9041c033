import { StowageError } from '../core/errors.js';
import type { EnvKind } from './adapter-definition.js';
import {
  allDefinitions,
  definitionOf,
  parseWithRegistry,
  type StorageConfig,
  withSecretsRegistered,
} from './registry.js';

export type { StorageConfig } from './registry.js';

export type ResolvedConfig = StorageConfig & {
  /** Where the configuration came from, for diagnostics (never contains secrets). */
  source: string;
};

const ENV_ORDER: readonly EnvKind[] = ['addon', 'platform', 'ambient', 'fallback'];

/**
 * Resolves storage configuration, first match wins: the argument,
 * STOWAGE_URL, then what each adapter's env detection finds: Heroku add-on
 * variables (Bucketeer, Cloudcube, Cloudinary), platform buckets (Fly.io
 * Tigris, Railway), AWS_* with S3_BUCKET, else local disk. A URL without
 * credentials gets them from lendCredentials().
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
  for (const kind of ENV_ORDER) {
    for (const [adapter, definition] of allDefinitions()) {
      for (const found of definition.fromEnv ?? []) {
        if (found.kind !== kind) continue;
        const options = found.detect(env);
        if (options)
          return { ...withSecretsRegistered({ adapter, options } as StorageConfig), source: found.source };
      }
    }
  }
  throw new StowageError('INVALID_ARGUMENT', 'no storage configured and no fallback adapter registered');
}

/** Parses a storage URL: file:…, memory://, s3://…, cloudinary://…; credentials as given. */
export function parseStorageUrl(raw: string): StorageConfig {
  return parseWithRegistry(raw);
}

function fromUrl(url: string, env: NodeJS.ProcessEnv): StorageConfig {
  const config = lendCredentials(parseWithRegistry(url, 'optional'), env);
  definitionOf(config.adapter).credentials?.require?.(config.options);
  return config;
}

/**
 * Credentials for a URL that names a store but carries none (stowage.lock.json
 * stores its URL without them). Lent, first match wins, by configuration
 * naming the same store: STOWAGE_URL (same bucket and endpoint, or same
 * cloud), then the adapter's Heroku add-ons (Bucketeer, Cloudcube,
 * CLOUDINARY_URL); then the adapter's ambient variables (for S3
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from `env`); else none, and the
 * AWS SDK's own chain (profile, instance role) applies. The one place every
 * entry point (createStorage, the loader, the CLI) gets them from.
 */
export function lendCredentials(config: StorageConfig, env: NodeJS.ProcessEnv): StorageConfig {
  const definition = definitionOf(config.adapter);
  const lending = definition.credentials;
  if (!lending || lending.has(config.options)) return config;
  const lenders: Array<() => object | undefined> = [
    () => sameAdapterIn(env, 'STOWAGE_URL', config.adapter),
    ...(definition.fromEnv ?? [])
      .filter((s) => s.kind === 'addon')
      .map((s) => () => quietly(() => s.detect(env))),
  ];
  for (const lender of lenders) {
    const other = lender();
    const lent = other && lending.borrow(config.options, other);
    if (lent) return withSecretsRegistered({ adapter: config.adapter, options: lent } as StorageConfig);
  }
  const ambient = lending.ambient?.(config.options, env);
  return ambient
    ? withSecretsRegistered({ adapter: config.adapter, options: ambient } as StorageConfig)
    : config;
}

/** The options in a variable holding a URL of the same adapter. A malformed one is an error, named. */
function sameAdapterIn(env: NodeJS.ProcessEnv, name: string, adapter: string): object | undefined {
  const value = env[name];
  if (!value) return undefined;
  let other: StorageConfig;
  try {
    other = parseWithRegistry(value, 'optional');
  } catch (err) {
    throw new StowageError('INVALID_ARGUMENT', `${name}: ${(err as Error).message}`);
  }
  return other.adapter === adapter ? other.options : undefined;
}

/** Incomplete add-on variables lend nothing: the URL given still stands. */
function quietly<T>(detect: () => T): T | undefined {
  try {
    return detect();
  } catch {
    return undefined;
  }
}
