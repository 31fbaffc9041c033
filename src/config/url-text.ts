import { invalidArg } from '../core/args.js';
import { StowageError } from '../core/errors.js';
import { validateKey } from '../core/keys.js';
import { redactUrl } from '../util/redact.js';
import type { ObjectLocation } from './adapter-definition.js';

/** new URL(), without ever echoing the text or keeping Node's error (its `input` holds the whole URL, secrets included). */
export function parseUrlText(text: string, example: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new StowageError('INVALID_ARGUMENT', `malformed storage URL; expected the form ${example}`);
  }
}

/**
 * An object URL whose host names the store and whose path is the key
 * (s3://bucket/models/x.onnx): the store is the URL without its path, query kept.
 */
export function hostIsStore(text: string, scheme: string): ObjectLocation {
  const url = parseUrlText(text, `${scheme}://bucket/path/to/key`);
  const key = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  if (!key)
    throw invalidArg(
      `the source URL needs the object key as its path, e.g. ${scheme}://bucket/models/x.onnx`,
    );
  url.pathname = '';
  return {
    storeUrl: url.toString().replace(/\/(\?|$)/, '$1'),
    key: validateKey(key, 'source key'),
    label: `${redactUrl(`${url.protocol}//${url.host}`)}/${key}`,
  };
}
