import type { Storage } from '../core/types.js';

/**
 * `'optional'`: a URL may name a store without its secrets (stowage.lock.json
 * stores it so); lendCredentials() completes it. `'required'`: it may not.
 */
export type CredentialsMode = 'required' | 'optional';

/**
 * Variables that describe a store, checked in this order across all adapters
 * (registry order within one kind): Heroku add-ons, then buckets a hosting
 * platform injects, then generic variables (AWS_*), then the fallback.
 */
export type EnvKind = 'addon' | 'platform' | 'ambient' | 'fallback';

export interface EnvSource<Options> {
  kind: EnvKind;
  /** Where the configuration came from, for diagnostics; never contains secrets. */
  source: string;
  /** The options the variables describe; undefined when they are absent; throws, naming the variable, when incomplete. */
  detect(env: NodeJS.ProcessEnv): Options | undefined;
}

/** How a configuration without its secrets gets them from others naming the same store. */
export interface CredentialLending<Options> {
  /** The options carry their own credentials: nothing is lent. */
  has(options: Options): boolean;
  /** `options` completed by `lender` (one of STOWAGE_URL and the adapter's add-ons) when both name the same store; else undefined. */
  borrow(options: Options, lender: Options): Options | undefined;
  /** The last resort, when no lender names the store (e.g. AWS_ACCESS_KEY_ID). */
  ambient?(options: Options, env: NodeJS.ProcessEnv): Options;
  /** Throws when the options still lack credentials the adapter cannot work without. */
  require?(options: Options): void;
}

/** An object URL split into its store (an URL this adapter parses) and the key. */
export interface ObjectLocation {
  storeUrl: string;
  key: string;
  /** The object's URL for messages; no secrets. */
  label: string;
}

/**
 * Everything stowage knows about one adapter outside its Storage class: the
 * one entry src/config/registry.ts holds per scheme. The module defining it
 * must not load the adapter's SDK; `load()` does, lazily.
 */
export interface AdapterDefinition<Options extends object> {
  /** The URL scheme, without ":" (lower case). */
  scheme: string;
  /** A URL of the scheme for messages, e.g. "s3://bucket/prefix". */
  example: string;
  /** Parses a URL of the scheme into options; checks every value; pure (secrets() names what to register). */
  fromUrl(text: string, credentials: CredentialsMode): Options;
  /** The reverse of fromUrl, without secrets: what the CLI shows and manifests record. */
  toUrl(options: Options): string;
  /** The values of `options` that must never appear in a message, log or stack. */
  secrets(options: Options): ReadonlyArray<string | undefined>;
  /** Environment variables that describe a store of this adapter. */
  fromEnv?: ReadonlyArray<EnvSource<Options>>;
  credentials?: CredentialLending<Options>;
  /** The loader's object URLs of the scheme (scheme://store/key); absent: not a loader source. */
  objectSource?: { example: string; locate(text: string): ObjectLocation };
  /**
   * Imports the adapter (through importPeer when it has an optional peer, so
   * a missing SDK is one StowageError naming what to install) and returns its constructor.
   */
  load(): Promise<(options: Options) => Storage>;
}

/** Identity, for inference: `defineAdapter<S3Config>({...})` checks the definition against its options type. */
export function defineAdapter<Options extends object>(
  definition: AdapterDefinition<Options>,
): AdapterDefinition<Options> {
  return definition;
}
