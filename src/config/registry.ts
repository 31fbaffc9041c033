/**
 * The one map from URL scheme to adapter. createStorage, config resolution,
 * the CLI and the loader ask it; nothing else in src/ knows a scheme.
 * Adding an adapter: its folder (with a config.ts like these), one line
 * here, its package.json export, a conformance file (see ADAPTERS.md).
 */
import { cloudinaryAdapter } from '../../adapters/cloudinary/config.js';
import { localAdapter } from '../../adapters/local/config.js';
import { memoryAdapter } from '../../adapters/memory/config.js';
import { s3Adapter } from '../../adapters/s3/config/index.js';
import { StowageError } from '../core/errors.js';
import { registerSecret } from '../util/redact.js';
import type { AdapterDefinition, CredentialsMode, ObjectLocation } from './adapter-definition.js';

/** Adapter name → definition. The order is the order env detection tries them in, within one kind. */
export const ADAPTERS = {
  local: localAdapter,
  memory: memoryAdapter,
  s3: s3Adapter,
  cloudinary: cloudinaryAdapter,
} as const satisfies Record<string, AnyDefinition>;

export type AdapterName = keyof typeof ADAPTERS;
type OptionsOf<N extends AdapterName> = (typeof ADAPTERS)[N] extends AdapterDefinition<infer O> ? O : never;

/** A parsed configuration: which adapter, with which options (one member per registry line). */
export type StorageConfig = { [N in AdapterName]: { adapter: N; options: OptionsOf<N> } }[AdapterName];

/** What the functions below see: any definition, its options opaque. */
// biome-ignore lint/suspicious/noExplicitAny: the registry's entries have different option types; StorageConfig ties each to its own
type AnyDefinition = AdapterDefinition<any>;

/** The registry as the functions below read it; tests add throwaway adapters to it (withAdapter). */
const definitions = new Map<string, AnyDefinition>(Object.entries(ADAPTERS));

/** The definition of a configuration's adapter. */
export function definitionOf(adapter: string): AnyDefinition {
  const definition = definitions.get(adapter);
  if (!definition)
    throw new StowageError('INVALID_ARGUMENT', `unknown storage adapter "${adapter.slice(0, 40)}"`);
  return definition;
}

/** Adapter name and definition, registry order. */
export function allDefinitions(): Array<[string, AnyDefinition]> {
  return [...definitions];
}

function schemeOf(text: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
}

function byScheme(scheme: string | undefined): [string, AnyDefinition] | undefined {
  return scheme === undefined ? undefined : [...definitions].find(([, d]) => d.scheme === scheme);
}

/**
 * Parses a storage URL into its adapter's options and registers their
 * secrets. Unknown schemes are refused with the list of known ones.
 */
export function parseWithRegistry(raw: string, credentials: CredentialsMode = 'required'): StorageConfig {
  const text = raw.trim();
  const scheme = schemeOf(text);
  const found = byScheme(scheme);
  if (!found) {
    const known = [...definitions.values()].map((d) => d.example);
    throw new StowageError(
      'INVALID_ARGUMENT',
      `unsupported storage URL scheme ${scheme ? `"${scheme}:"` : '(none)'}; use ${known.slice(0, -1).join(', ')} or ${known.at(-1)}`,
    );
  }
  const [adapter, definition] = found;
  return withSecretsRegistered({ adapter, options: definition.fromUrl(text, credentials) } as StorageConfig);
}

/** Registers the configuration's secrets (for redact()) and returns it: every config stowage builds passes here. */
export function withSecretsRegistered<C extends StorageConfig>(config: C): C {
  for (const secret of definitionOf(config.adapter).secrets(config.options)) registerSecret(secret);
  return config;
}

/** The URL of a configuration, without secrets (the reverse of parsing). */
export function storageUrlOf(config: StorageConfig): string {
  return definitionOf(config.adapter).toUrl(config.options);
}

/** The loader's view: an object URL of a scheme that is a loader source, split into store and key; else undefined. */
export function locateObject(text: string): ObjectLocation | undefined {
  return byScheme(schemeOf(text))?.[1].objectSource?.locate(text);
}

/** Examples of every object-URL form the loader takes, for its messages. */
export function objectSourceExamples(): string[] {
  return [...definitions.values()].flatMap((d) => (d.objectSource ? [d.objectSource.example] : []));
}

/**
 * For tests: adds an adapter under `name` (its scheme must be new) until
 * the returned function is called. Not exported from the package.
 */
export function withAdapter(name: string, definition: AnyDefinition): () => void {
  if (definitions.has(name) || byScheme(definition.scheme)) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      `adapter "${name}" or scheme "${definition.scheme}:" is taken`,
    );
  }
  definitions.set(name, definition);
  return () => {
    definitions.delete(name);
  };
}
