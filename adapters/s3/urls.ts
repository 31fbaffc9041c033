import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { invalidArg } from '../../src/core/args.js';
import { encodeKeyPath } from '../../src/core/keys.js';
import { attachmentDisposition, downloadName } from '../../src/util/content-disposition.js';
import { importPeer } from '../../src/util/optional-peer.js';
import type { ResolvedS3Options } from './options.js';
import { S3_PRESIGNER } from './peers.js';
import { mapS3Error } from './s3-errors.js';

/** S3's limit for SigV4 presigned URLs: 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** Used when a download is asked for without expiresIn: content-disposition needs a signed request. */
const DEFAULT_DOWNLOAD_SECONDS = 3600;

/**
 * The unsigned URL of an object: publicBaseUrl (a CDN or the bucket's public
 * host, mapped to the bucket root) when configured, else the endpoint in
 * path style or virtual-hosted style as the client addresses it.
 */
export function publicUrl(options: ResolvedS3Options, s3Key: string): string {
  const path = encodeKeyPath(s3Key);
  if (options.publicBaseUrl) return `${options.publicBaseUrl}/${path}`;
  const bucket = encodeURIComponent(options.bucket);
  if (!options.endpoint) {
    return options.forcePathStyle
      ? `https://s3.${options.region}.amazonaws.com/${bucket}/${path}`
      : `https://${bucket}.s3.${options.region}.amazonaws.com/${path}`;
  }
  const url = new URL(options.endpoint);
  const base = url.pathname.replace(/\/+$/, '');
  if (options.forcePathStyle || bucket.includes('.')) return `${url.origin}${base}/${bucket}/${path}`;
  return `${url.protocol}//${bucket}.${url.host}${base}/${path}`;
}

export async function signedGetUrl(
  client: S3Client,
  options: ResolvedS3Options,
  s3Key: string,
  key: string,
  expiresIn: number | undefined,
  download: boolean | string | undefined,
): Promise<string> {
  const seconds = Math.ceil(expiresIn ?? DEFAULT_DOWNLOAD_SECONDS);
  if (seconds > MAX_PRESIGN_SECONDS) {
    throw invalidArg(`options.expiresIn must be at most ${MAX_PRESIGN_SECONDS} seconds (7 days) for S3`);
  }
  const command = new GetObjectCommand({
    Bucket: options.bucket,
    Key: s3Key,
    ...(download ? { ResponseContentDisposition: attachmentDisposition(downloadName(download, key)) } : {}),
  });
  const { getSignedUrl } = await importPeer(S3_PRESIGNER, () => import('@aws-sdk/s3-request-presigner'));
  try {
    return await getSignedUrl(client, command, { expiresIn: seconds });
  } catch (err) {
    // Signing needs credentials too: missing ones are ACCESS_DENIED, as for any request.
    throw mapS3Error(err, 'signing a URL for', key);
  }
}
