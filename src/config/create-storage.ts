import type { Storage } from '../core/types.js';
import { definitionOf, type StorageConfig } from './registry.js';
import { resolveStorageConfig } from './resolve.js';

/**
 * Builds the Storage the environment asks for (see resolveStorageConfig for
 * the order, and lendCredentials for where a URL's missing credentials come from).
 */
export async function createStorage(url?: string, env: NodeJS.ProcessEnv = process.env): Promise<Storage> {
  return createStorageFrom(resolveStorageConfig(url, env));
}

/**
 * Builds the Storage of a configuration through its registry entry. Each
 * adapter is imported only when chosen, so an unused SDK is never loaded; a
 * chosen one whose SDK is not installed fails here with a StowageError
 * naming the packages to install.
 */
export async function createStorageFrom(config: StorageConfig): Promise<Storage> {
  const create = await definitionOf(config.adapter).load();
  return create(config.options);
}
