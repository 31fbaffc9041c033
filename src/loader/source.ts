import { createStorage } from '../config/create-storage.js';
import { locateObject, objectSourceExamples } from '../config/registry.js';
import { invalidArg } from '../core/args.js';
import { validateKey } from '../core/keys.js';
import type { Storage } from '../core/types.js';
import { redactUrl, registerSecret } from '../util/redact.js';
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
  if (/^hf:/i.test(text)) return hfRemote(text, options);
  const object = locateObject(text);
  if (object) {
    // The store's URL: its missing credentials are lent as for any other (see lendCredentials).
    const storage = await createStorage(object.storeUrl);
    return new StorageRemote(storage, object.key, object.label);
  }
  throw invalidArg(
    `unsupported source ${JSON.stringify(redactUrl(text).slice(0, 80))}; use ${objectSourceExamples().join(', ')}, an http(s) URL, hf://org/repo/path, or { storage, key }`,
  );
}
