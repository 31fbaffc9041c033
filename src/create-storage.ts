import { resolveStorageConfig, type StorageConfig } from './config.js';
import type { Storage } from './types.js';

/**
 * Builds the Storage the environment asks for (see resolveStorageConfig for
 * the order, and lendCredentials for where a URL's missing credentials come from).
 */
export async function createStorage(url?: string, env: NodeJS.ProcessEnv = process.env): Promise<Storage> {
  return createStorageFrom(resolveStorageConfig(url, env));
}

/**
 * The one place that knows every adapter. Each is imported only when chosen,
 * so an unused SDK is never loaded; a chosen one whose SDK is not installed
 * fails here with a StowageError naming the packages to install.
 */
export async function createStorageFrom(config: StorageConfig): Promise<Storage> {
  switch (config.adapter) {
    case 'local': {
      const { LocalStorage } = await import('../adapters/local/index.js');
      return new LocalStorage(config.options);
    }
    case 'memory': {
      const { MemoryStorage } = await import('../adapters/memory/index.js');
      return new MemoryStorage(config.options);
    }
    case 's3': {
      const { S3Storage } = await import('../adapters/s3/index.js');
      return new S3Storage(config.options);
    }
    case 'cloudinary': {
      const { CloudinaryStorage } = await import('../adapters/cloudinary/index.js');
      return new CloudinaryStorage(config.options);
    }
  }
}
