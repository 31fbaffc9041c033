import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import { type Write, writeFailure } from '../../src/adapter-kit/write.js';
import { StowageError, untilAborted } from '../../src/core/errors.js';
import type { ObjectInfo, PutOptions } from '../../src/core/types.js';
import { SHA256_META } from './metadata.js';
import type { ResolvedS3Options } from './options.js';
import { type Part, PartReader } from './part-reader.js';
import { unsignedPayloadOverTls } from './payload-signing.js';
import { mapS3Error } from './s3-errors.js';

export interface PutTarget {
  client: S3Client;
  options: ResolvedS3Options;
  /** The user's key (validated) and the full S3 key under the root prefix. */
  key: string;
  s3Key: string;
}

/**
 * Streams a body to S3 through a few reused part buffers (memory ≈ partSize ×
 * (queueSize + 1), see PartReader). A body that ends within the first part is
 * verified, then sent as one PutObject carrying its sha256 and MD5. Longer
 * bodies become a multipart upload, completed only after the whole body was
 * verified (and beforeCommit allowed it); any failure aborts it, so nothing
 * partial ever appears at the key.
 */
export async function putObject(target: PutTarget, write: Write, contentType?: string): Promise<ObjectInfo> {
  const reader = new PartReader(write.chunks(), partSizeFor(target, write.options.size ?? write.knownSize));
  try {
    const first = await reader.next();
    const metadata = { ...(write.options.metadata ?? {}) };
    if (first.last) return await putSingle(target, write, first.data, metadata, contentType);
    return await putMultipart(target, write, reader, first, metadata, contentType);
  } catch (err) {
    throw writeFailure(write, err, (e) => mapS3Error(e, 'writing', target.key));
  }
}

/** The configured part size, raised when a known size would need more than S3's 10,000 parts. */
function partSizeFor(target: PutTarget, size: number | undefined): number {
  const configured = target.options.partSize;
  if (size === undefined || size <= configured * MAX_PARTS) return configured;
  return Math.ceil(size / MAX_PARTS / MiB) * MiB;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;

/** A whole, verified body: one PutObject carrying its sha256 (metadata) and MD5 (checked by S3). */
async function putSingle(
  target: PutTarget,
  write: Write,
  data: Buffer,
  metadata: Record<string, string>,
  contentType: string | undefined,
): Promise<ObjectInfo> {
  const { options } = write;
  const { sha256, size } = await write.publishable();
  metadata[SHA256_META] = sha256;
  const result = await target.client.send(
    unsignedPayloadOverTls(
      new PutObjectCommand({
        ...commonParams(target, options, metadata, contentType),
        Body: data,
        ContentLength: size,
        ContentMD5: createHash('md5').update(data).digest('base64'),
      }),
    ),
    { abortSignal: options.signal },
  );
  return info(target.key, size, sha256, metadata, contentType, result.ETag);
}

/**
 * Multipart upload, queueSize parts in flight. Completed only once the body
 * ended verified (the verifier errors the stream otherwise) and beforeCommit
 * resolved; aborted on any failure, the abort sent even when the caller's
 * signal fired (so the store frees the parts).
 */
async function putMultipart(
  target: PutTarget,
  write: Write,
  reader: PartReader,
  first: Part,
  metadata: Record<string, string>,
  contentType: string | undefined,
): Promise<ObjectInfo> {
  const { client, options: s3 } = target;
  const { options } = write;
  // Only a sha256 known before the upload starts can be stored with it.
  if (options.sha256) metadata[SHA256_META] = options.sha256;
  const send = { abortSignal: options.signal };
  const create: CreateMultipartUploadCommandInput = commonParams(target, options, metadata, contentType);
  // Under the SDK's default checksum mode (AWS), parts carry CRC32s the completion must list.
  if ((await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED')
    create.ChecksumAlgorithm = 'CRC32';
  // Not under the caller's signal: an upload S3 creates after the caller gave up must still be aborted.
  const created = client.send(new CreateMultipartUploadCommand(create));
  void created.then(
    ({ UploadId }) => {
      if (options.signal?.aborted)
        void abortUpload(client, { Bucket: s3.bucket, Key: target.s3Key, UploadId });
    },
    () => undefined,
  );
  const { UploadId } = await untilAborted(created, options.signal, target.key);
  const ids = { Bucket: s3.bucket, Key: target.s3Key, UploadId };
  const inFlight = new Set<Promise<void>>();
  try {
    const parts: CompletedPart[] = [];
    let failure: { error: unknown } | undefined;
    for (let part: Part | undefined = first, n = 1; part; n++) {
      if (n > MAX_PARTS) throw tooManyParts(target.key);
      const current: Part = part;
      const upload = client
        .send(
          unsignedPayloadOverTls(
            new UploadPartCommand({
              ...ids,
              PartNumber: n,
              Body: current.data,
              ContentLength: current.data.length,
            }),
          ),
          send,
        )
        .then((r) => {
          parts.push(completedPart(n, r));
        })
        .catch((error) => {
          failure ??= { error };
        })
        .finally(() => {
          current.release();
          inFlight.delete(upload);
        });
      inFlight.add(upload);
      if (inFlight.size >= s3.queueSize) await Promise.race(inFlight);
      if (failure) throw failure.error;
      // PartReader reads one chunk ahead, so the part marked last is never followed by an empty one.
      part = current.last ? undefined : await reader.next();
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    const { sha256, size } = await write.publishable();
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    // The commit point. It stays under the caller's signal, the escape hatch from a server that never
    // answers: a signal firing while S3 is already completing races the abort below, and if S3's
    // completion wins, the object is published though put() reports ABORTED (S3 has no way to know).
    const result = await client.send(
      new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: parts } }),
      send,
    );
    return info(target.key, size, sha256, metadata, contentType, result.ETag);
  } catch (err) {
    // Parts still landing after the abort would bring the upload back (S3 says to abort again):
    // let them settle first. At most queueSize of them; the caller's signal cancels them.
    await Promise.allSettled([...inFlight]);
    await abortUpload(client, ids);
    throw err;
  }
}

/** Not under the caller's signal: the abort must go out precisely when that signal fired. Best effort. */
async function abortUpload(
  client: S3Client,
  ids: { Bucket: string; Key: string; UploadId: string | undefined },
): Promise<void> {
  await client.send(new AbortMultipartUploadCommand(ids)).catch(() => undefined);
}

function completedPart(n: number, r: UploadPartCommandOutput): CompletedPart {
  const part: CompletedPart = { PartNumber: n, ETag: r.ETag };
  if (r.ChecksumCRC32) part.ChecksumCRC32 = r.ChecksumCRC32;
  if (r.ChecksumCRC32C) part.ChecksumCRC32C = r.ChecksumCRC32C;
  if (r.ChecksumSHA1) part.ChecksumSHA1 = r.ChecksumSHA1;
  if (r.ChecksumSHA256) part.ChecksumSHA256 = r.ChecksumSHA256;
  return part;
}

function tooManyParts(key: string): StowageError {
  return new StowageError(
    'TOO_LARGE',
    `"${key}" needs more than ${MAX_PARTS} parts: pass its size (options.size) or raise the adapter's partSize`,
    { key },
  );
}

function commonParams(
  target: PutTarget,
  options: PutOptions,
  metadata: Record<string, string>,
  contentType: string | undefined,
): PutObjectCommandInput {
  const params: PutObjectCommandInput = {
    Bucket: target.options.bucket,
    Key: target.s3Key,
    Metadata: metadata,
  };
  if (contentType) params.ContentType = contentType;
  if (options.cacheControl) params.CacheControl = options.cacheControl;
  if (options.contentDisposition) params.ContentDisposition = options.contentDisposition;
  return params;
}

function info(
  key: string,
  size: number,
  sha256: string,
  metadata: Record<string, string>,
  contentType: string | undefined,
  etag: string | undefined,
): ObjectInfo {
  const { [SHA256_META]: _, ...userMetadata } = metadata;
  const result: ObjectInfo = { key, size, metadata: userMetadata, sha256 };
  if (etag) result.etag = etag;
  if (contentType) result.contentType = contentType;
  return result;
}
