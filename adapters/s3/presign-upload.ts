import type { S3Client } from '@aws-sdk/client-s3';
import { checkPresignOptions } from '../../src/adapter-kit/presign-options.js';
import type { DirectUpload, PresignUploadOptions } from '../../src/core/types.js';
import { importPeer } from '../../src/util/optional-peer.js';
import { checkUserMetadata } from './metadata.js';
import type { ResolvedS3Options } from './options.js';
import { S3_PRESIGNED_POST } from './peers.js';
import { mapS3Error } from './s3-errors.js';
import { MAX_PRESIGN_SECONDS } from './urls.js';

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
  const { maxSize, expiresIn, contentType, metadata } = checkPresignOptions(opts, {
    maxExpiresIn: MAX_PRESIGN_SECONDS,
  });
  checkUserMetadata(metadata);

  const fields: Record<string, string> = {};
  const conditions: Array<unknown> = [['content-length-range', 0, maxSize]];
  if (contentType !== undefined) {
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
