import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3_PRESETS } from '../adapters/s3/presets.js';
import type { CloudinaryConfig, LocalConfig, S3Config, StorageConfig } from './config.js';
import { StowageError } from './errors.js';
import { normalisePrefix } from './keys.js';
import { registerSecret } from './redact.js';
import { readQuery } from './url-query.js';

/**
 * Parses a storage URL (file:…, memory://, s3://…, cloudinary://…) into the
 * options of its adapter. Every query parameter must be one the scheme
 * knows, and values are checked here, so a bad URL fails when it is read.
 * `credentials: 'optional'` accepts a cloudinary:// URL without key and
 * secret (as stowage.lock.json stores it): lendCredentials completes it.
 */
export function parseStorageUrlText(
  raw: string,
  credentials: 'required' | 'optional' = 'required',
): StorageConfig {
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'file':
      return { adapter: 'local', options: parseFileUrl(text) };
    case 'memory':
      return { adapter: 'memory', options: parseMemoryUrl(text) };
    case 's3':
      return { adapter: 's3', options: parseS3Url(text) };
    case 'cloudinary':
      return { adapter: 'cloudinary', options: parseCloudinaryUrl(text, credentials) };
    default:
      throw new StowageError(
        'INVALID_ARGUMENT',
        `unsupported storage URL scheme ${scheme ? `"${scheme}:"` : '(none)'}; use file:./dir, memory://, s3://bucket/prefix or cloudinary://key:secret@cloud`,
      );
  }
}

/** new URL(), without ever echoing the text or keeping Node's error (its `input` holds the whole URL, secrets included). */
export function parseUrlText(text: string, example: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new StowageError('INVALID_ARGUMENT', `malformed storage URL; expected the form ${example}`);
  }
}

function parseFileUrl(text: string): LocalConfig {
  const [pathPart = '', query = ''] = text.slice('file:'.length).split('?', 2);
  const params = readQuery(new URLSearchParams(query), ['baseUrl'], 'file:');
  let root: string;
  if (pathPart.startsWith('//')) root = fileURLToPath(`file:${pathPart}`);
  else root = decodeURIComponent(pathPart);
  if (!root) throw new StowageError('INVALID_ARGUMENT', 'file: URL needs a directory, e.g. file:./uploads');
  const config: LocalConfig = { root: isAbsolute(root) ? root : resolve(root) };
  const baseUrl = params.get('baseUrl');
  if (baseUrl) config.baseUrl = baseUrl;
  return config;
}

function parseMemoryUrl(text: string): { baseUrl?: string } {
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : '';
  const baseUrl = readQuery(new URLSearchParams(query), ['baseUrl'], 'memory://').get('baseUrl');
  return baseUrl ? { baseUrl } : {};
}

const S3_PARAMS = [
  'region',
  'endpoint',
  'forcePathStyle',
  'pathStyle',
  'publicUrl',
  'publicBaseUrl',
  'preset',
];

function parseS3Url(text: string): S3Config {
  const url = parseUrlText(text, 's3://bucket/prefix?region=…&endpoint=…');
  const bucket = decodeURIComponent(url.hostname);
  if (!bucket) throw new StowageError('INVALID_ARGUMENT', 's3:// URL needs a bucket: s3://bucket/prefix');
  const config: S3Config = { bucket };
  const prefix = normalisePrefix(decodeURIComponent(url.pathname));
  if (prefix) config.prefix = prefix;
  if (url.username && url.password) {
    config.credentials = {
      accessKeyId: decodeURIComponent(url.username),
      secretAccessKey: decodeURIComponent(url.password),
    };
    registerSecret(config.credentials.secretAccessKey);
  } else if (url.username || url.password) {
    // Half a credential would silently fall back to the SDK's default chain: another account, maybe.
    throw new StowageError(
      'INVALID_ARGUMENT',
      's3:// URL credentials need both parts: s3://ACCESS_KEY_ID:SECRET_ACCESS_KEY@bucket (percent-encode ":", "@" and "/" in them)',
    );
  }
  const q = readQuery(url.searchParams, S3_PARAMS, 's3://');
  const region = q.get('region');
  if (region) {
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(region)) {
      throw new StowageError('INVALID_ARGUMENT', 's3:// URL: region must be a region name such as eu-west-1');
    }
    config.region = region;
  }
  const endpoint = q.get('endpoint');
  if (endpoint) {
    registerUrlPassword(endpoint);
    if (!isHttpUrl(endpoint)) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        's3:// URL: endpoint must be an http(s) URL such as https://s3.eu-west-1.amazonaws.com (percent-encoded in the query)',
      );
    }
    config.endpoint = endpoint;
  }
  const pathStyle = oneOf(q, 'forcePathStyle', 'pathStyle');
  if (pathStyle) config.forcePathStyle = flag(pathStyle, 'forcePathStyle');
  const publicBaseUrl = oneOf(q, 'publicUrl', 'publicBaseUrl');
  if (publicBaseUrl) {
    if (!isHttpUrl(publicBaseUrl) && !publicBaseUrl.startsWith('/')) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        's3:// URL: publicUrl must be an http(s) URL such as https://cdn.example.com, or a path such as /files',
      );
    }
    config.publicBaseUrl = publicBaseUrl;
  }
  const preset = q.get('preset');
  if (preset) {
    if (!Object.hasOwn(S3_PRESETS, preset.toLowerCase())) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        `s3:// URL: unknown preset "${preset.slice(0, 40)}"; use one of ${Object.keys(S3_PRESETS).join(', ')}`,
      );
    }
    config.preset = preset;
  }
  return config;
}

/**
 * The query settings the Cloudinary adapter reads (see its settings.ts);
 * anything else would be silently ignored, so it is refused.
 */
const CLOUDINARY_PARAMS = [
  'upload_prefix',
  'secure',
  'secure_distribution',
  'private_cdn',
  'cname',
  'cdn_subdomain',
  'signature_algorithm',
  'sign_url',
  'invalidate',
  'chunk_size',
];

function parseCloudinaryUrl(text: string, credentials: 'required' | 'optional'): CloudinaryConfig {
  const url = parseUrlText(text, 'cloudinary://api_key:api_secret@cloud_name/folder');
  const cloudName = decodeURIComponent(url.hostname);
  const apiKey = decodeURIComponent(url.username);
  const apiSecret = decodeURIComponent(url.password);
  const missing = !apiKey || !apiSecret;
  // Half a credential is never completed from elsewhere: it would mix two accounts.
  if (!cloudName || (missing && (credentials === 'required' || apiKey || apiSecret))) {
    throw new StowageError(
      'INVALID_ARGUMENT',
      'cloudinary:// URL needs key, secret and cloud: cloudinary://api_key:api_secret@cloud_name',
    );
  }
  if (apiSecret) registerSecret(apiSecret);
  const config: CloudinaryConfig = { cloudName, apiKey, apiSecret };
  const folder = normalisePrefix(decodeURIComponent(url.pathname));
  if (folder) config.folder = folder;
  const options = Object.fromEntries(readQuery(url.searchParams, CLOUDINARY_PARAMS, 'cloudinary://'));
  if (Object.keys(options).length) config.options = options;
  return config;
}

/** The value of a parameter that has an alias; giving both is refused. */
function oneOf(q: Map<string, string>, name: string, alias: string): string | undefined {
  if (q.has(name) && q.has(alias)) {
    throw new StowageError('INVALID_ARGUMENT', `s3:// URL: give ${name} or ${alias}, not both`);
  }
  return q.get(name) ?? q.get(alias);
}

function flag(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new StowageError('INVALID_ARGUMENT', `s3:// URL: ${name} must be true or false`);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    return false;
  }
}

/** A password inside a URL given as a parameter (an endpoint with userinfo) is a secret too. */
function registerUrlPassword(value: string): void {
  try {
    const password = new URL(value).password;
    if (password) registerSecret(decodeURIComponent(password));
  } catch {
    // Not a URL: nothing to register; the caller refuses it.
  }
}
