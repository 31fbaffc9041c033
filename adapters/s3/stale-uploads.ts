import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { IncompleteUpload, SweepIncompleteOptions } from '../../src/core/types.js';
import { PageTokens } from './pagination.js';

/**
 * Aborts the multipart uploads under `s3Prefix` started before `olderThan` (all pages of
 * ListMultipartUploads), and returns them with their S3 keys: the parts of an upload a client
 * or a crashed process left cost storage until aborted. For a scheduled job (`stowage sweep`);
 * a bucket lifecycle rule does the same server-side. With `dryRun`, only lists them.
 */
export async function sweepIncompleteUploads(
  client: S3Client,
  bucket: string,
  s3Prefix: string,
  olderThan: Date,
  opts: SweepIncompleteOptions = {},
): Promise<IncompleteUpload[]> {
  const signal = opts.signal;
  const swept: IncompleteUpload[] = [];
  const markers = new PageTokens('ListMultipartUploads');
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: s3Prefix || undefined,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
        MaxUploads: opts.pageSize,
      }),
      { abortSignal: signal },
    );
    for (const upload of page.Uploads ?? []) {
      // No start time: its age is unknown, so it is left alone.
      if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= olderThan) continue;
      const found = { key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated };
      if (!opts.dryRun && !(await abort(client, bucket, found, signal))) continue;
      swept.push(found);
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    if (keyMarker !== undefined) markers.next(`${keyMarker}\n${uploadIdMarker ?? ''}`);
  } while (keyMarker);
  return swept;
}

/** False when the upload was completed or aborted meanwhile (NoSuchUpload): nothing to sweep. */
async function abort(
  client: S3Client,
  bucket: string,
  upload: IncompleteUpload,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  try {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }),
      { abortSignal: signal },
    );
    return true;
  } catch (err) {
    if ((err as { name?: string })?.name === 'NoSuchUpload') return false;
    throw err;
  }
}
