import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { invalidArg } from '../../src/core/args.js';
import type { MultipartUploads, ObjectInfo, SignedPart, UploadedPart } from '../../src/core/types.js';
import { importPeer } from '../../src/util/optional-peer.js';
import { checkUserMetadata, infoFromHead } from './metadata.js';
import { MAX_PART_SIZE, MIN_PART_SIZE, type ResolvedS3Options } from './options.js';
import { PageTokens } from './pagination.js';
import { S3_PRESIGNER } from './peers.js';
import { dropBodyChecksums } from './presign-put.js';
import { mapS3Error } from './s3-errors.js';
import { MAX_PRESIGN_SECONDS } from './urls.js';

const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;
const DEFAULT_EXPIRES = 600;

/**
 * S3 multipart uploads signed for a browser. Part sizes: equal parts except
 * the last, at least 5 MiB, at most 10,000 parts — what AWS, R2 (equal parts)
 * and every other S3 store accept.
 */
export class S3MultipartUploads implements MultipartUploads {
  readonly maxParts = MAX_PARTS;
  readonly minPartSize = MIN_PART_SIZE;

  constructor(
    private readonly client: S3Client,
    private readonly options: ResolvedS3Options,
    /** Validates a storage key and maps it to the bucket key. */
    private readonly s3Key: (key: string) => string,
  ) {}

  partSize(size: number): number {
    if (!Number.isSafeInteger(size) || size < 0) throw invalidArg(`size must be a byte count, got ${size}`);
    // Whole MiB, so two servers (or a server and Uppy) computing it agree.
    const part = Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
    if (part > MAX_PART_SIZE)
      throw invalidArg(`${size} bytes do not fit in ${MAX_PARTS} parts of at most 5 GiB`);
    return part;
  }

  async create(
    key: string,
    opts: { contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<{ uploadId: string }> {
    const s3Key = this.s3Key(key);
    if (opts.metadata) checkUserMetadata(opts.metadata);
    try {
      const out = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.options.bucket,
          Key: s3Key,
          ContentType: opts.contentType ?? 'application/octet-stream',
          ...(opts.metadata ? { Metadata: opts.metadata } : {}),
        }),
      );
      if (!out.UploadId) throw new Error('the store answered CreateMultipartUpload without an UploadId');
      return { uploadId: out.UploadId };
    } catch (err) {
      throw mapS3Error(err, 'starting a multipart upload to', key);
    }
  }

  async signParts(
    key: string,
    uploadId: string,
    partNumbers: number[],
    opts: { expiresIn?: number } = {},
  ): Promise<SignedPart[]> {
    const s3Key = this.s3Key(key);
    checkUploadId(uploadId);
    for (const n of partNumbers) checkPartNumber(n);
    const seconds = Math.ceil(opts.expiresIn ?? DEFAULT_EXPIRES);
    if (!(seconds > 0) || seconds > MAX_PRESIGN_SECONDS) {
      throw invalidArg(`options.expiresIn must be from 1 to ${MAX_PRESIGN_SECONDS} seconds`);
    }
    const { getSignedUrl } = await importPeer(S3_PRESIGNER, () => import('@aws-sdk/s3-request-presigner'));
    const expiresAt = new Date(Date.now() + seconds * 1000);
    try {
      return await Promise.all(
        partNumbers.map(async (partNumber) => {
          const command = new UploadPartCommand({
            Bucket: this.options.bucket,
            Key: s3Key,
            UploadId: uploadId,
            PartNumber: partNumber,
          });
          command.middlewareStack.addRelativeTo(dropBodyChecksums as never, {
            relation: 'before',
            toMiddleware: 'presignInterceptMiddleware',
            name: 'stowageDropBodyChecksums',
          });
          const url = await getSignedUrl(this.client, command, { expiresIn: seconds });
          return { partNumber, url, headers: {}, expiresAt };
        }),
      );
    } catch (err) {
      throw mapS3Error(err, 'signing a part upload to', key);
    }
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const s3Key = this.s3Key(key);
    checkUploadId(uploadId);
    const parts: UploadedPart[] = [];
    const markers = new PageTokens('ListParts');
    let marker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.options.bucket,
            Key: s3Key,
            UploadId: uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
        );
        for (const part of page.Parts ?? []) {
          if (part.PartNumber === undefined || !part.ETag) continue;
          parts.push({ partNumber: part.PartNumber, size: part.Size ?? 0, etag: part.ETag });
        }
        marker = page.IsTruncated ? markers.next(page.NextPartNumberMarker) : undefined;
      } while (marker);
    } catch (err) {
      throw mapS3Error(err, 'listing the parts of the upload to', key);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete(
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
  ): Promise<ObjectInfo> {
    const s3Key = this.s3Key(key);
    checkUploadId(uploadId);
    if (!Array.isArray(parts) || parts.length === 0) throw invalidArg('complete needs the uploaded parts');
    for (const part of parts) {
      checkPartNumber(part?.partNumber);
      if (typeof part.etag !== 'string' || part.etag === '') throw invalidArg('each part needs its ETag');
    }
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.options.bucket,
          Key: s3Key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [...parts]
              .sort((a, b) => a.partNumber - b.partNumber)
              .map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })),
          },
        }),
      );
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: s3Key }));
      return infoFromHead(key, head);
    } catch (err) {
      throw mapS3Error(err, 'completing the upload to', key);
    }
  }

  async abort(key: string, uploadId: string): Promise<void> {
    const s3Key = this.s3Key(key);
    checkUploadId(uploadId);
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.options.bucket, Key: s3Key, UploadId: uploadId }),
      );
    } catch (err) {
      // Already aborted or completed: gone either way.
      if ((err as { name?: string })?.name === 'NoSuchUpload') return;
      throw mapS3Error(err, 'aborting the upload to', key);
    }
  }
}

function checkUploadId(uploadId: unknown): asserts uploadId is string {
  if (typeof uploadId !== 'string' || uploadId === '' || uploadId.length > 1024) {
    throw invalidArg('uploadId must be the id create() returned');
  }
}

function checkPartNumber(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_PARTS) {
    throw invalidArg(`part numbers go from 1 to ${MAX_PARTS}, got ${String(n)}`);
  }
}
