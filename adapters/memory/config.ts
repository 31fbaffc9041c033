/** The `memory:` scheme: a Map, for tests. Loads nothing; the adapter is imported by load(). */
import { defineAdapter } from '../../src/config/adapter-definition.js';
import { readQuery } from '../../src/config/url-query.js';

/** Options of MemoryStorage that configuration can set. */
export interface MemoryConfig {
  baseUrl?: string;
}

export const memoryAdapter = defineAdapter<MemoryConfig>({
  scheme: 'memory',
  example: 'memory://',
  fromUrl(text) {
    const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : '';
    const baseUrl = readQuery(new URLSearchParams(query), ['baseUrl'], 'memory://').get('baseUrl');
    return baseUrl ? { baseUrl } : {};
  },
  toUrl: (options) =>
    `memory://${options.baseUrl ? `?${new URLSearchParams({ baseUrl: options.baseUrl })}` : ''}`,
  secrets: () => [],
  async load() {
    const { MemoryStorage } = await import('./memory-storage.js');
    return (options) => new MemoryStorage(options);
  },
});
