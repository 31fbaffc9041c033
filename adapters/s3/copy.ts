import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { StowageError } from '../../src/core/errors.js';
import type { ObjectInfo } from '../../src/core/types.js';
import { SHA256_META } from './metadata.js';
import type { ResolvedS3Options } from './options.js';

/**
 * x-amz-copy-source is "<bucket>/<key>" URL-encoded: every byte but the
 * unreserved ones and "/" percent-encoded (as botocore does), so keys with
 * spaces, "+ & ; = % # ?" and non-ASCII reach the right source. "+" must be
 * encoded or S3 reads it as a space.
 */
export function encodeCopySource(bucket: string, s3Key: string): string {
  return `${encodeStrict(bucket)}/${s3Key.split('/').map(encodeStrict).join('/')}`;
}

function encodeStrict(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export interface CopyTarget {
  client: S3Client;
  options: ResolvedS3Options;
  fromS3Key: string;
  toS3Key: string;
  /** The source as HeadObject saw it (user metadata without sha256). */
  source: ObjectInfo;
}

/** Server-side copy in one request; metadata and content type come along (COPY directive). */
export async function copyObject(t: CopyTarget): Promise<{ etag?: string; lastModified?: Date }> {
  const out = await t.client.send(
    new CopyObjectCommand({
      Bucket: t.options.bucket,
      Key: t.toS3Key,
      CopySource: encodeCopySource(t.options.bucket, t.fromS3Key),
      MetadataDirective: 'COPY',
    }),
  );
  return { etag: out.CopyObjectResult?.ETag, lastModified: out.CopyObjectResult?.LastModified };
}

/**
 * Server-side copy of an object over CopyObject's 5 GiB limit: UploadPartCopy
 * of copyPartSize ranges, queueSize at a time. Multipart uploads do not copy
 * metadata, so type, metadata and sha256 are set again. Any failure aborts
 * the upload: nothing appears at the target.
 */
export async function multipartCopy(t: CopyTarget): Promise<{ etag?: string }> {
  const { client, options } = t;
  const metadata = { ...t.source.metadata };
  if (t.source.sha256) metadata[SHA256_META] = t.source.sha256;
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: options.bucket,
      Key: t.toS3Key,
      Metadata: metadata,
      ...(t.source.contentType ? { ContentType: t.source.contentType } : {}),
    }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new StowageError('INTERNAL', 'CreateMultipartUpload returned no UploadId');
  try {
    const size = t.source.size;
    const partSize = Math.max(options.copyPartSize, Math.ceil(size / 10_000));
    const ranges: Array<{ n: number; start: number; end: number }> = [];
    for (let start = 0, n = 1; start < size; start += partSize, n++) {
      ranges.push({ n, start, end: Math.min(start + partSize, size) - 1 });
    }
    const parts: CompletedPart[] = [];
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < ranges.length && !failed) {
        const range = ranges[next++]!;
        const out = await client.send(
          new UploadPartCopyCommand({
            Bucket: options.bucket,
            Key: t.toS3Key,
            UploadId: uploadId,
            PartNumber: range.n,
            CopySource: encodeCopySource(options.bucket, t.fromS3Key),
            CopySourceRange: `bytes=${range.start}-${range.end}`,
            ...(t.source.etag ? { CopySourceIfMatch: t.source.etag } : {}),
          }),
        );
        parts.push({ PartNumber: range.n, ETag: out.CopyPartResult?.ETag });
      }
    };
    // Settle every worker before aborting, so no part lands after the abort.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(options.queueSize, ranges.length) }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: options.bucket,
        Key: t.toS3Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return { etag: done.ETag };
  } catch (err) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: options.bucket, Key: t.toS3Key, UploadId: uploadId }))
      .catch(() => undefined);
    throw err;
  }
}
