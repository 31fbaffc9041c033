/**
 * The `file:` scheme: local disk. Loads nothing; the adapter is imported by load().
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineAdapter } from '../../src/config/adapter-definition.js';
import { readQuery } from '../../src/config/url-query.js';
import { invalidArg } from '../../src/core/args.js';
import { StowageError } from '../../src/core/errors.js';

/** Options of LocalStorage that configuration can set. */
export interface LocalConfig {
  root: string;
  baseUrl?: string;
}

/** The local directory used when nothing else is configured. */
export const DEFAULT_LOCAL_ROOT = './uploads';

export const localAdapter = defineAdapter<LocalConfig>({
  scheme: 'file',
  example: 'file:./dir',
  fromUrl(text) {
    const [pathPart = '', query = ''] = text.slice('file:'.length).split('?', 2);
    const params = readQuery(new URLSearchParams(query), ['baseUrl'], 'file:');
    const root = pathOf(pathPart);
    if (!root) throw new StowageError('INVALID_ARGUMENT', 'file: URL needs a directory, e.g. file:./uploads');
    const config: LocalConfig = { root: isAbsolute(root) ? root : resolve(root) };
    const baseUrl = params.get('baseUrl');
    if (baseUrl) config.baseUrl = baseUrl;
    return config;
  },
  toUrl(options) {
    const query = options.baseUrl ? `?${new URLSearchParams({ baseUrl: options.baseUrl })}` : '';
    // "%" and "?" would be read back as an escape and a query.
    return `file:${options.root.replace(/[%?]/g, encodeURIComponent)}${query}`;
  },
  secrets: () => [],
  fromEnv: [
    {
      kind: 'fallback',
      source: 'default (local disk)',
      detect: () => ({ root: resolve(DEFAULT_LOCAL_ROOT) }),
    },
  ],
  objectSource: {
    example: 'file:./path',
    // The file's directory is the store, its name the key.
    locate(text) {
      const [pathPart = ''] = text.slice('file:'.length).split('?', 1);
      const file = pathOf(pathPart);
      if (!file) throw invalidArg('a file: source needs a file path, e.g. file:./models/model.onnx');
      const abs = isAbsolute(file) ? file : resolve(file);
      return { storeUrl: `file:${dirname(abs)}`, key: basename(abs), label: `file:${abs}` };
    },
  },
  async load() {
    const { LocalStorage } = await import('./local-storage.js');
    return (options) => new LocalStorage(options);
  },
});

/** file:///abs/path is a file URL; file:./rel and file:/abs are plain (percent-decoded) paths. */
function pathOf(pathPart: string): string {
  return pathPart.startsWith('//') ? fileURLToPath(`file:${pathPart}`) : decodeURIComponent(pathPart);
}
