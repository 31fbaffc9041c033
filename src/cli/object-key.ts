import { extname } from 'node:path';

/** Extensions kept on content-addressed keys (so URLs and content types stay meaningful). */
const SAFE_EXT = /^\.[a-z0-9]{1,16}$/;

/** `sha256/<ab>/<hash><ext>`: identical content is stored once, and a key never changes meaning. */
export function contentAddressedKey(sha256: string, path: string): string {
  const ext = extname(path).toLowerCase();
  return `sha256/${sha256.slice(0, 2)}/${sha256}${SAFE_EXT.test(ext) ? ext : ''}`;
}

export const CONTENT_PREFIX = 'sha256/';
