import { createHash, timingSafeEqual } from 'node:crypto';

/** Params Cloudinary leaves out of the string to sign. */
const UNSIGNED = new Set(['file', 'cloud_name', 'resource_type', 'api_key', 'signature']);

export type SignatureAlgorithm = 'sha1' | 'sha256';

/**
 * The string Cloudinary signs, as documented: every param except file,
 * cloud_name, resource_type and api_key; empty values dropped; sorted by
 * key; `k=v` pairs (an `&` inside a pair escaped as %26) joined with `&`.
 */
export function stringToSign(params: Record<string, string>): string {
  return Object.entries(params)
    .filter(([k, v]) => !UNSIGNED.has(k) && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26'))
    .join('&');
}

export function signParams(
  params: Record<string, string>,
  secret: string,
  algorithm: SignatureAlgorithm,
): string {
  return createHash(algorithm)
    .update(stringToSign(params) + secret)
    .digest('hex');
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The `s--XXXXXXXX--` component of a signed delivery URL. */
export function deliverySignature(toSign: string, secret: string, algorithm: SignatureAlgorithm, length = 8) {
  return createHash(algorithm)
    .update(toSign + secret)
    .digest('base64')
    .slice(0, length)
    .replace(/\//g, '_')
    .replace(/\+/g, '-');
}
