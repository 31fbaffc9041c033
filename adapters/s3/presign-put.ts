import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { invalidArg } from '../../src/core/args.js';
import type { DirectUpload } from '../../src/core/types.js';
import { importPeer } from '../../src/util/optional-peer.js';
import type { ResolvedS3Options } from './options.js';
import { S3_PRESIGNER } from './peers.js';
import { mapS3Error } from './s3-errors.js';

export interface PresignPutRequest {
  s3Key: string;
  key: string;
  /** Exact size: signed as Content-Length. */
  size: number;
  /** Exact type: signed as Content-Type. */
  contentType: string;
  metadata: Record<string, string>;
  seconds: number;
}

/**
 * Under the SDK's default checksum mode (AWS) a CRC32 of the empty presigning
 * body would be signed into the URL, and S3 would refuse every real upload.
 */
type Handler = (args: { request: unknown }) => Promise<unknown>;
export const dropBodyChecksums =
  (next: Handler): Handler =>
  async (args) => {
    const { headers } = args.request as { headers: Record<string, string> };
    for (const name of Object.keys(headers)) {
      if (/^x-amz-(sdk-)?checksum-/i.test(name)) delete headers[name];
    }
    return next(args);
  };

/** The only headers the browser may not choose: the store checks them against the signature. */
const SIGNED_HEADERS = new Set(['content-length', 'content-type']);

/**
 * A presigned PutObject for stores without browser POST (R2, B2, …): the
 * size and type are part of the signature, so the store refuses a body of
 * another length or another Content-Type (SignatureDoesNotMatch). The browser
 * sends `headers` and the file as the body; it sets Content-Length itself.
 */
export async function presignPut(
  client: S3Client,
  options: ResolvedS3Options,
  request: PresignPutRequest,
): Promise<DirectUpload> {
  const { size, contentType, seconds } = request;
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(contentType)) {
    throw invalidArg('a presigned PUT signs one exact content type ("image/png"), not a prefix');
  }
  const command = new PutObjectCommand({
    Bucket: options.bucket,
    Key: request.s3Key,
    ContentLength: size,
    ContentType: contentType,
    ...(Object.keys(request.metadata).length ? { Metadata: request.metadata } : {}),
  });
  command.middlewareStack.addRelativeTo(dropBodyChecksums as never, {
    relation: 'before',
    toMiddleware: 'presignInterceptMiddleware',
    name: 'stowageDropBodyChecksums',
  });
  const { getSignedUrl } = await importPeer(S3_PRESIGNER, () => import('@aws-sdk/s3-request-presigner'));
  let url: string;
  try {
    url = await getSignedUrl(client, command, {
      expiresIn: seconds,
      signableHeaders: SIGNED_HEADERS,
      // Metadata stays a header the browser sends, not a query parameter anyone could read in logs.
      unhoistableHeaders: new Set(Object.keys(request.metadata).map((name) => `x-amz-meta-${name}`)),
    });
  } catch (err) {
    throw mapS3Error(err, 'signing an upload to', request.key);
  }
  const headers: Record<string, string> = { 'Content-Type': contentType };
  for (const [name, value] of Object.entries(request.metadata)) headers[`x-amz-meta-${name}`] = value;
  return {
    key: request.key,
    method: 'PUT',
    url,
    fields: {},
    fileField: '',
    headers,
    expiresAt: new Date(Date.now() + seconds * 1000),
  };
}
