/**
 * The `cloudinary:` scheme: URL grammar, CLOUDINARY_URL, and how a lock
 * file's credential-less URL borrows the key and secret. Loads no SDK;
 * load() imports the adapter through importPeer.
 */
import { type CredentialsMode, defineAdapter } from '../../src/config/adapter-definition.js';
import { readQuery } from '../../src/config/url-query.js';
import { hostIsStore, parseUrlText } from '../../src/config/url-text.js';
import { StowageError } from '../../src/core/errors.js';
import { normalisePrefix } from '../../src/core/keys.js';
import { importPeer } from '../../src/util/optional-peer.js';
import { CLOUDINARY_SDK } from './peers.js';

/** Options of CloudinaryStorage that configuration can set. */
export interface CloudinaryConfig {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** Folder under which keys become public_ids. */
  folder?: string;
  /** Extra SDK settings from the URL query (upload_prefix, secure_distribution, private_cdn, …). */
  options?: Record<string, string>;
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

export const cloudinaryAdapter = defineAdapter<CloudinaryConfig>({
  scheme: 'cloudinary',
  example: 'cloudinary://key:secret@cloud',
  fromUrl: cloudinaryFromUrl,
  toUrl(o) {
    const query = o.options ? new URLSearchParams(o.options).toString() : '';
    return `cloudinary://${o.cloudName}/${o.folder ?? ''}${query ? `?${query}` : ''}`;
  },
  secrets: (o) => [o.apiSecret],
  fromEnv: [
    {
      kind: 'addon',
      source: 'CLOUDINARY_URL',
      detect(env) {
        const text = env.CLOUDINARY_URL?.trim();
        if (!text) return undefined;
        if (!/^cloudinary:/i.test(text))
          throw new StowageError('INVALID_ARGUMENT', 'CLOUDINARY_URL must be a cloudinary:// URL');
        return cloudinaryFromUrl(text, 'required');
      },
    },
  ],
  credentials: {
    has: (o) => o.apiKey !== '',
    borrow: (o, lender) =>
      lender.cloudName === o.cloudName && lender.apiKey
        ? { ...o, apiKey: lender.apiKey, apiSecret: lender.apiSecret }
        : undefined,
    require(o) {
      if (o.apiKey) return;
      throw new StowageError(
        'INVALID_ARGUMENT',
        `cloudinary://${o.cloudName} has no credentials: give them in the URL (cloudinary://api_key:api_secret@cloud_name) or in STOWAGE_URL or CLOUDINARY_URL naming the same cloud`,
      );
    },
  },
  objectSource: { example: 'cloudinary://…/key', locate: (text) => hostIsStore(text, 'cloudinary') },
  async load() {
    const { CloudinaryStorage } = await importPeer(CLOUDINARY_SDK, () => import('./cloudinary-storage.js'));
    return (options) => new CloudinaryStorage(options);
  },
});

function cloudinaryFromUrl(text: string, credentials: CredentialsMode): CloudinaryConfig {
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
  const config: CloudinaryConfig = { cloudName, apiKey, apiSecret };
  const folder = normalisePrefix(decodeURIComponent(url.pathname));
  if (folder) config.folder = folder;
  const options = Object.fromEntries(readQuery(url.searchParams, CLOUDINARY_PARAMS, 'cloudinary://'));
  if (Object.keys(options).length) config.options = options;
  return config;
}
