import { readQuery } from '../../../src/config/url-query.js';
import { parseUrlText } from '../../../src/config/url-text.js';
import { StowageError } from '../../../src/core/errors.js';
import { normalisePrefix } from '../../../src/core/keys.js';
import { S3_PRESETS } from '../presets.js';
import type { S3Config } from './types.js';

const S3_PARAMS = [
  'region',
  'endpoint',
  'forcePathStyle',
  'pathStyle',
  'publicUrl',
  'publicBaseUrl',
  'preset',
];

/** s3://[KEY:SECRET@]bucket/prefix?region=…&endpoint=…: every parameter known, every value checked. */
export function s3FromUrl(text: string): S3Config {
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

/** The reverse of s3FromUrl, without credentials. */
export function s3ToUrl(o: S3Config): string {
  const query = new URLSearchParams();
  if (o.region) query.set('region', o.region);
  if (o.endpoint) query.set('endpoint', withoutUserinfo(o.endpoint));
  if (o.preset) query.set('preset', o.preset);
  if (o.forcePathStyle !== undefined) query.set('forcePathStyle', String(o.forcePathStyle));
  if (o.publicBaseUrl) query.set('publicUrl', o.publicBaseUrl);
  const q = query.toString();
  return `s3://${o.bucket}/${o.prefix ?? ''}${q ? `?${q}` : ''}`;
}

function withoutUserinfo(value: string): string {
  try {
    const url = new URL(value);
    if (!url.username && !url.password) return value;
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, value.endsWith('/') ? '/' : '');
  } catch {
    return value;
  }
}

/** The credentials, and a password inside the endpoint URL (https://user:pass@minio…). */
export function s3Secrets(o: S3Config): Array<string | undefined> {
  return [o.credentials?.secretAccessKey, o.credentials?.sessionToken, urlPassword(o.endpoint)];
}

function urlPassword(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
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
