import type { S3Client } from '@aws-sdk/client-s3';
import { checkOptionsObject, checkPutOptions, invalidArg } from '../../src/args.js';
import { importPeer } from '../../src/optional-peer.js';
import type { DirectUpload, PresignUploadOptions } from '../../src/types.js';
import { checkUserMetadata } from './metadata.js';
import type { ResolvedS3Options } from './options.js';
import { S3_PRESIGNED_POST } from './peers.js';
import { mapS3Error } from './s3-errors.js';
import { MAX_PRESIGN_SECONDS } from './urls.js';

const DEFAULT_EXPIRES = 600;

/**
 * A presigned POST policy: S3 itself refuses a body outside
 * content-length-range [0, maxSize] or a Content-Type outside the condition,
 * which a presigned PUT cannot do. The browser sends `fields` in order, then
 * the file in the "file" field (last). With a content-type prefix ("image/"),
 * the browser adds a "Content-Type" field with the file's type before the file.
 */
export async function presignPost(
  client: S3Client,
  options: ResolvedS3Options,
  s3Key: string,
  key: string,
  opts: PresignUploadOptions,
): Promise<DirectUpload> {
  checkOptionsObject(opts, 'presignUpload options');
  if (opts === undefined || opts === null)
    throw invalidArg('presignUpload needs options with maxSize (bytes)');
  const { maxSize, contentType } = opts;
  if (typeof maxSize !== 'number' || !Number.isSafeInteger(maxSize) || maxSize < 1) {
    throw invalidArg(`options.maxSize must be a positive integer number of bytes, got ${String(maxSize)}`);
  }
  const expiresIn = opts.expiresIn ?? DEFAULT_EXPIRES;
  if (typeof expiresIn !== 'number' || !(expiresIn > 0) || expiresIn > MAX_PRESIGN_SECONDS) {
    throw invalidArg(
      `options.expiresIn must be from 1 to ${MAX_PRESIGN_SECONDS} seconds, got ${String(expiresIn)}`,
    );
  }
  const { metadata = {} } = checkPutOptions({ metadata: opts.metadata });
  checkUserMetadata(metadata);

  const fields: Record<string, string> = {};
  const conditions: Array<unknown> = [['content-length-range', 0, maxSize]];
  if (contentType !== undefined) {
    if (typeof contentType !== 'string' || !/^[\w.+-]+\/([\w.+-]+)?$/.test(contentType)) {
      throw invalidArg(
        'options.contentType must be a MIME type ("image/png") or a prefix ending in "/" ("image/")',
      );
    }
    if (contentType.endsWith('/')) conditions.push(['starts-with', '$Content-Type', contentType]);
    else fields['Content-Type'] = contentType;
  } else {
    // S3 refuses any form field no condition names: let the browser send its file's type.
    conditions.push(['starts-with', '$Content-Type', '']);
  }
  for (const [name, value] of Object.entries(metadata)) fields[`x-amz-meta-${name}`] = value;

  const seconds = Math.ceil(expiresIn);
  const { createPresignedPost } = await importPeer(
    S3_PRESIGNED_POST,
    () => import('@aws-sdk/s3-presigned-post'),
  );
  let post: Awaited<ReturnType<typeof createPresignedPost>>;
  try {
    post = await createPresignedPost(client, {
      Bucket: options.bucket,
      Key: s3Key,
      Conditions: conditions as never,
      Fields: fields,
      Expires: seconds,
    });
  } catch (err) {
    throw mapS3Error(err, 'signing an upload to', key);
  }
  return {
    key,
    method: 'POST',
    url: post.url,
    fields: post.fields,
    fileField: 'file',
    headers: {},
    expiresAt: new Date(Date.now() + seconds * 1000),
  };
}
