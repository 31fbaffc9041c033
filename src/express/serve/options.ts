import { checkInteger } from '../../adapter-kit/integer-option.js';
import { checkOptionsObject, invalidArg } from '../../core/args.js';
import { DEFAULT_STAGING_PREFIX } from '../../staging/staging.js';
import { defaultServeCacheDir } from './cache/disk-tier.js';
import type { ActiveContentPolicy } from './headers.js';

const MiB = 1024 * 1024;

export interface ServeOptions {
  /** Cache-Control of 200/206/304 answers; false sends none. Default "public, max-age=0". */
  cacheControl?: string | false;
  /** Missing keys (and the mount root) call next() instead of answering 404, like express.static. Default false. */
  fallthrough?: boolean;
  /** Methods other than GET and HEAD: "next" passes them on (so upload() can share the path), "405" refuses them. Default "next". */
  otherMethods?: 'next' | '405';
  /**
   * html, svg, xml and javascript objects: "sandbox" adds
   * `Content-Security-Policy: sandbox; default-src 'none'`, "attachment" also
   * forces a download, "allow" serves them as any other type. Default "sandbox".
   */
  activeContent?: ActiveContentPolicy;
  /** Seconds a cached version is trusted before the origin is asked (head + ETag compare). Default 60. */
  revalidateAfter?: number;
  /** Hot small objects in memory; false turns the tier off. Defaults: 32 MiB total, 1 MiB per object. */
  memory?: false | { maxBytes?: number; maxObjectBytes?: number };
  /**
   * Larger objects on local disk; false turns the tier off. Defaults: dir
   * STOWAGE_CACHE_DIR or <tmpdir>/stowage-cache, 512 MiB total, 64 MiB per object.
   */
  disk?: false | { dir?: string; maxBytes?: number; maxObjectBytes?: number };
  /**
   * Answer 302 to storage.url(key) instead of streaming the bytes. `true`
   * asks for a signed URL valid one hour when the adapter signs URLs (else
   * its public URL); `{ expiresIn }` sets the lifetime in seconds.
   */
  redirect?: boolean | { expiresIn?: number };
  /**
   * Key prefixes never served (404, or next() with fallthrough). Default
   * [".staging"]: where upload() and directUpload() keep files not yet
   * checked, which must not be reachable before they pass.
   */
  hiddenPrefixes?: string[];
}

export interface ResolvedServeOptions {
  cacheControl: string | false;
  fallthrough: boolean;
  otherMethods: 'next' | '405';
  activeContent: ActiveContentPolicy;
  revalidateAfterMs: number;
  memory: { maxBytes: number; maxObjectBytes: number } | false;
  disk: { dir: string; maxBytes: number; maxObjectBytes: number } | false;
  redirect: { expiresIn: number | undefined } | false;
  hiddenPrefixes: string[];
}

export function resolveServeOptions(
  options: ServeOptions | undefined,
  signsUrls: boolean,
): ResolvedServeOptions {
  checkOptionsObject(options, 'serve() options');
  const o = options ?? {};
  const cacheControl = o.cacheControl ?? 'public, max-age=0';
  if (cacheControl !== false && (typeof cacheControl !== 'string' || /[\r\n]/.test(cacheControl))) {
    throw invalidArg('options.cacheControl must be a header value such as "public, max-age=3600", or false');
  }
  return {
    cacheControl,
    fallthrough: flag(o.fallthrough, 'options.fallthrough', false),
    otherMethods: oneOf(o.otherMethods, 'options.otherMethods', ['next', '405'], 'next'),
    activeContent: oneOf(
      o.activeContent,
      'options.activeContent',
      ['sandbox', 'attachment', 'allow'],
      'sandbox',
    ),
    revalidateAfterMs: seconds(o.revalidateAfter, 'options.revalidateAfter', 60) * 1000,
    memory: tier(o.memory, 'options.memory', 32 * MiB, MiB),
    disk: diskTier(o.disk),
    redirect: redirect(o.redirect, signsUrls),
    hiddenPrefixes: prefixes(o.hiddenPrefixes),
  };
}

function prefixes(value: unknown): string[] {
  if (value === undefined) return [DEFAULT_STAGING_PREFIX];
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string' && p !== '' && !p.startsWith('/'))) {
    throw invalidArg('options.hiddenPrefixes must be an array of key prefixes such as [".staging"]');
  }
  return value.map((p: string) => p.replace(/\/+$/, ''));
}

function flag(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArg(`${what} must be true or false`);
  return value;
}

function oneOf<T extends string>(value: unknown, what: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw invalidArg(`${what} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value as T;
}

function seconds(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidArg(`${what} must be a non-negative number of seconds`);
  }
  return value;
}

function bytes(value: unknown, what: string, fallback: number): number {
  return checkInteger(value, what, { note: '(bytes)' }) ?? fallback;
}

function tier(
  value: unknown,
  what: string,
  maxBytes: number,
  maxObjectBytes: number,
): { maxBytes: number; maxObjectBytes: number } | false {
  if (value === false) return false;
  checkOptionsObject(value, what);
  const v = (value ?? {}) as { maxBytes?: unknown; maxObjectBytes?: unknown };
  const total = bytes(v.maxBytes, `${what}.maxBytes`, maxBytes);
  const perObject = bytes(v.maxObjectBytes, `${what}.maxObjectBytes`, Math.min(maxObjectBytes, total));
  if (total === 0) return false;
  return { maxBytes: total, maxObjectBytes: Math.min(perObject, total) };
}

function diskTier(value: ServeOptions['disk']): ResolvedServeOptions['disk'] {
  const sizes = tier(value, 'options.disk', 512 * MiB, 64 * MiB);
  if (sizes === false) return false;
  const dir = value ? value.dir : undefined;
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
    throw invalidArg('options.disk.dir must be a directory path');
  }
  return { ...sizes, dir: dir ?? defaultServeCacheDir() };
}

function redirect(value: ServeOptions['redirect'], signsUrls: boolean): ResolvedServeOptions['redirect'] {
  if (value === undefined || value === false) return false;
  if (value === true) return { expiresIn: signsUrls ? 3600 : undefined };
  checkOptionsObject(value, 'options.redirect');
  const expiresIn = value.expiresIn;
  if (
    expiresIn !== undefined &&
    (typeof expiresIn !== 'number' || !(expiresIn > 0) || !Number.isFinite(expiresIn))
  ) {
    throw invalidArg('options.redirect.expiresIn must be a positive number of seconds');
  }
  return { expiresIn: expiresIn ?? (signsUrls ? 3600 : undefined) };
}
