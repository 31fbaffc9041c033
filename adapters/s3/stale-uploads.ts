import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { PageTokens } from './pagination.js';

/**
 * Aborts multipart uploads under `prefix` started before `cutoff`: the parts
 * of a crashed process's upload cost storage until aborted. For a scheduled
 * job (`stowage sweep`); a bucket lifecycle rule does the same server-side.
 */
export async function abortStaleUploads(
  client: S3Client,
  bucket: string,
  prefix: string,
  cutoff: Date,
  signal?: AbortSignal,
): Promise<number> {
  let aborted = 0;
  const markers = new PageTokens('ListMultipartUploads');
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix || undefined,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
      { abortSignal: signal },
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= cutoff) continue;
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        {
          abortSignal: signal,
        },
      );
      aborted++;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    if (keyMarker !== undefined) markers.next(`${keyMarker}\n${uploadIdMarker ?? ''}`);
  } while (keyMarker);
  return aborted;
}
