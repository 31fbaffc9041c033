import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArg } from '../args.js';
import { createStorage } from '../create-storage.js';
import { validateKey } from '../keys.js';
import { redactUrl, registerSecret } from '../redact.js';
import { parseUrlText } from '../storage-url.js';
import type { Storage } from '../types.js';
import { hfRemote } from './hf/remote.js';
import { HttpRemote } from './http-remote.js';
import type { ResolvedLoaderOptions } from './options.js';
import type { Remote } from './remote.js';
import { StorageRemote } from './storage-remote.js';

/** Where a model comes from: a storage URL whose path is the key, an http(s) URL, or a Storage and a key. */
export type ModelSource = string | URL | { storage: Storage; key: string };

function isStorage(value: unknown): value is Storage {
  const s = value as Storage | undefined;
  return !!s && typeof s === 'object' && typeof s.get === 'function' && typeof s.head === 'function';
}

/** Turns a source into a Remote; storage URLs are split into the store (scheme, host, query) and the key (path). */
export async function resolveSource(source: ModelSource, options: ResolvedLoaderOptions): Promise<Remote> {
  if (source && typeof source === 'object' && !(source instanceof URL)) {
    if (!isStorage(source.storage))
      throw invalidArg('source.storage must be a Storage (e.g. createStorage())');
    return new StorageRemote(source.storage, validateKey(source.key, 'source.key'));
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw invalidArg(
      'source must be a URL string (s3://bucket/key, file:./dir/file, https://…) or { storage, key }',
    );
  }
  const text = String(source).trim();
  if (/^https?:\/\//i.test(text)) {
    for (const value of Object.values(options.headers ?? {})) registerSecret(value);
    return new HttpRemote(text, { headers: options.headers, stallTimeout: options.stallTimeout });
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'hf') return hfRemote(text, options);
  if (scheme === 'file') {
    const [pathPart = ''] = text.slice('file:'.length).split('?', 1);
    const file = pathPart.startsWith('//') ? fileURLToPath(`file:${pathPart}`) : decodeURIComponent(pathPart);
    if (!file) throw invalidArg('a file: source needs a file path, e.g. file:./models/model.onnx');
    const abs = isAbsolute(file) ? file : resolve(file);
    const storage = await createStorage(`file:${dirname(abs)}`);
    return new StorageRemote(storage, basename(abs), `file:${abs}`);
  }
  if (scheme === 's3' || scheme === 'cloudinary') {
    const url = parseUrlText(text, `${scheme}://bucket/path/to/key`);
    const key = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
    if (!key)
      throw invalidArg(
        `the source URL needs the object key as its path, e.g. ${scheme}://bucket/models/x.onnx`,
      );
    url.pathname = '';
    // The store's URL: its missing credentials are lent as for any other (see lendCredentials).
    const storage = await createStorage(url.toString().replace(/\/(\?|$)/, '$1'));
    return new StorageRemote(
      storage,
      validateKey(key, 'source key'),
      `${redactUrl(`${url.protocol}//${url.host}`)}/${key}`,
    );
  }
  throw invalidArg(
    `unsupported source ${JSON.stringify(redactUrl(text).slice(0, 80))}; use s3://bucket/key, cloudinary://…/key, file:./path, an http(s) URL, or { storage, key }`,
  );
}
