import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { toReadable } from '../../src/body.js';
import { StowageError, throwIfAborted } from '../../src/errors.js';
import type { Body, ObjectInfo, PutOptions } from '../../src/types.js';
import { SHA256_META } from './metadata.js';
import type { ResolvedS3Options } from './options.js';
import { mapS3Error } from './s3-errors.js';
import { VerifyingDigest } from './verifying-digest.js';

export interface PutTarget {
  client: S3Client;
  options: ResolvedS3Options;
  /** The user's key (validated) and the full S3 key under the root prefix. */
  key: string;
  s3Key: string;
}

/**
 * Streams a body to S3. The first partSize bytes are read ahead: a body that
 * ends within them is verified, then sent as one PutObject carrying its
 * sha256 and MD5. Longer bodies go through lib-storage's multipart Upload
 * (memory ≈ partSize × (queueSize + 1)); a verification failure there errors
 * the stream before its last part, so the upload is aborted, never completed.
 */
export async function putObject(
  target: PutTarget,
  body: Body,
  options: PutOptions,
  contentType?: string,
): Promise<ObjectInfo> {
  const { key } = target;
  const { stream, size: knownSize } = toReadable(body);
  try {
    throwIfAborted(options.signal, key);
    checkKnownSize(key, knownSize, options);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  const verifier = new VerifyingDigest({
    size: options.size,
    sha256: options.sha256,
    maxSize: options.maxSize,
    label: `"${key}"`,
  });
  // Errors surface through the verifier's iterator below; the pipeline's own promise only mirrors them.
  pipeline(stream, verifier, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  const chunks = verifier[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    const head = await readAhead(chunks, target.options.partSize);
    const metadata = { ...(options.metadata ?? {}) };
    if (head.ended) return await putSingle(target, verifier, head.chunks, metadata, options, contentType);
    return await putMultipart(target, verifier, replay(head.chunks, chunks), metadata, options, contentType);
  } catch (err) {
    verifier.destroy();
    stream.destroy();
    throw putError(err, key, options.signal);
  }
}

/** Reads until more than `limit` bytes arrived or the body ended (verified: the verifier flushed). */
async function readAhead(
  chunks: AsyncIterator<Buffer>,
  limit: number,
): Promise<{ chunks: Buffer[]; ended: boolean }> {
  const head: Buffer[] = [];
  let bytes = 0;
  while (bytes <= limit) {
    const next = await chunks.next();
    if (next.done) return { chunks: head, ended: true };
    head.push(next.value);
    bytes += next.value.length;
  }
  return { chunks: head, ended: false };
}

/** A whole, verified body: one PutObject carrying its sha256 (metadata) and MD5 (checked by S3). */
async function putSingle(
  target: PutTarget,
  verifier: VerifyingDigest,
  chunks: Buffer[],
  metadata: Record<string, string>,
  options: PutOptions,
  contentType: string | undefined,
): Promise<ObjectInfo> {
  const { sha256, size } = verifier.digest();
  metadata[SHA256_META] = sha256;
  const data = Buffer.concat(chunks, size);
  const result = await target.client.send(
    new PutObjectCommand({
      ...commonParams(target, options, metadata, contentType),
      Body: data,
      ContentLength: size,
      ContentMD5: createHash('md5').update(data).digest('base64'),
    }),
    { abortSignal: options.signal },
  );
  return info(target.key, size, sha256, metadata, contentType, result.ETag);
}

/** lib-storage multipart upload of the rest; a stream error makes it abort, never complete. */
async function putMultipart(
  target: PutTarget,
  verifier: VerifyingDigest,
  body: AsyncIterable<Buffer>,
  metadata: Record<string, string>,
  options: PutOptions,
  contentType: string | undefined,
): Promise<ObjectInfo> {
  // Only a sha256 known before the upload starts can be stored with it.
  if (options.sha256) metadata[SHA256_META] = options.sha256;
  const upload = new Upload({
    client: options.signal ? withSignal(target.client, options.signal) : target.client,
    params: {
      ...commonParams(target, options, metadata, contentType),
      Body: Readable.from(body, { objectMode: false }),
    },
    partSize: target.options.partSize,
    queueSize: target.options.queueSize,
    leavePartsOnError: false,
  });
  const result = await upload.done();
  const { sha256, size } = verifier.digest();
  return info(target.key, size, sha256, metadata, contentType, result.ETag);
}

/**
 * lib-storage sends its requests without an AbortSignal. This view of the
 * client adds the caller's to every request but AbortMultipartUpload, so an
 * abort also cancels in-flight parts and a pending CompleteMultipartUpload,
 * while the cleanup still goes out.
 */
function withSignal(client: S3Client, signal: AbortSignal): S3Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: Parameters<S3Client['send']>[0], opts?: { abortSignal?: AbortSignal }) =>
        command instanceof AbortMultipartUploadCommand
          ? target.send(command, opts)
          : target.send(command, { ...opts, abortSignal: signal });
    },
  });
}

async function* replay(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  head.length = 0;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
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

function checkKnownSize(key: string, knownSize: number | undefined, options: PutOptions): void {
  if (knownSize === undefined) return;
  if (options.maxSize !== undefined && knownSize > options.maxSize) {
    throw new StowageError(
      'TOO_LARGE',
      `"${key}" is ${knownSize} bytes, over the limit of ${options.maxSize}`,
      {
        key,
      },
    );
  }
  if (options.size !== undefined && knownSize !== options.size) {
    throw new StowageError(
      'CHECKSUM_MISMATCH',
      `"${key}": expected ${options.size} bytes, got ${knownSize}`,
      {
        key,
      },
    );
  }
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

function putError(err: unknown, key: string, signal: AbortSignal | undefined): StowageError {
  if (err instanceof StowageError) return err.key === undefined ? withKey(err, key) : err;
  if (signal?.aborted) {
    return new StowageError('ABORTED', `write of "${key}" aborted`, { cause: signal.reason ?? err, key });
  }
  const sdk = (err as { $metadata?: unknown })?.$metadata !== undefined;
  if (!sdk && !(err as { code?: string })?.code?.startsWith?.('E')) {
    // Not the store and not the network: the body stream itself failed.
    return new StowageError(
      'ABORTED',
      `write of "${key}" aborted: the body stream failed (${(err as Error)?.message ?? String(err)})`,
      { cause: err, key },
    );
  }
  return mapS3Error(err, 'writing', key);
}

function withKey(err: StowageError, key: string): StowageError {
  return new StowageError(err.code, err.message, {
    cause: err.cause,
    key,
    retryable: err.retryable,
    status: err.status,
  });
}
