import { addAbortSignal, type Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { defaultContentType } from '../../src/adapter-kit/content-type.js';
import { checkListOptions } from '../../src/adapter-kit/list-options.js';
import { beginWrite } from '../../src/adapter-kit/write.js';
import { checkOptionsObject, checkRange, checkUrlOptions } from '../../src/core/args.js';
import { foundOrNot, StowageError, throwIfAborted } from '../../src/core/errors.js';
import { validateKey, validatePrefix } from '../../src/core/keys.js';
import type {
  Body,
  Capabilities,
  DirectUpload,
  GetOptions,
  GetResult,
  IncompleteUpload,
  ListedObject,
  ListOptions,
  MultipartUploads,
  ObjectInfo,
  PresignUploadOptions,
  PutOptions,
  Storage,
  SweepIncompleteOptions,
  UrlOptions,
} from '../../src/core/types.js';
import { buildClient } from './client.js';
import { copyObject, multipartCopy } from './copy.js';
import { checkUserMetadata, infoFromHead } from './metadata.js';
import { S3MultipartUploads } from './multipart-uploads.js';
import { type ResolvedS3Options, resolveOptions, type S3StorageOptions } from './options.js';
import { PageTokens } from './pagination.js';
import { choosePresignMethod, putRequestOf } from './presign-method.js';
import { presignPut } from './presign-put.js';
import { presignPost } from './presign-upload.js';
import { putObject } from './put.js';
import { parseContentRange, trimToRange } from './range.js';
import { mapS3Error } from './s3-errors.js';
import { sweepIncompleteUploads } from './stale-uploads.js';
import { publicUrl, signedGetUrl } from './urls.js';

const MAX_OBJECT_SIZE = 5 * 1024 ** 4; // 5 TiB, S3's limit.
const SINGLE_DELETES_IN_FLIGHT = 8;

/**
 * Objects in an S3 bucket (AWS or any S3-compatible store), under an optional
 * key prefix. Writes stream with bounded memory and never leave a partial
 * object: a failed or aborted put aborts its multipart upload.
 */
export class S3Storage implements Storage {
  readonly name = 's3';
  readonly capabilities: Capabilities;
  /** The SDK client, for what stowage does not cover. */
  readonly client: S3Client;
  readonly bucket: string;
  private readonly options: ResolvedS3Options;
  /** DeleteObjects is worth trying: the store's profile says so and it has not answered NotImplemented. */
  private batchDelete: boolean;
  private multipart: S3MultipartUploads | undefined;

  constructor(options: S3StorageOptions) {
    this.options = resolveOptions(options);
    this.client = buildClient(options, this.options);
    this.bucket = this.options.bucket;
    this.batchDelete = this.options.batchDelete;
    this.capabilities = {
      rangeReads: true,
      copy: true,
      signedUrls: true,
      metadata: true,
      contentType: true,
      sortedList: true,
      // ListObjectsV2 carries no type or metadata; a HEAD per key would cost a request each.
      listDetails: false,
      maxObjectSize: MAX_OBJECT_SIZE,
      keyIsAlsoPrefix: true,
      beforeCommit: true,
    };
  }

  async put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo> {
    const write = beginWrite(this, key, body, opts, { options: (o) => checkUserMetadata(o.metadata) });
    const target = {
      client: this.client,
      options: this.options,
      key: write.key,
      s3Key: this.s3Key(write.key),
    };
    return putObject(target, write, defaultContentType(write.key, write.options.contentType));
  }

  async get(key: string, opts?: GetOptions): Promise<GetResult> {
    const valid = validateKey(key);
    checkOptionsObject(opts, 'get options');
    const range = checkRange(opts?.range);
    const signal = opts?.signal;
    throwIfAborted(signal, valid);
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.s3Key(valid),
          ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw mapS3Error(err, 'reading', valid, signal);
    }
    let body = out.Body as Readable;
    if (signal) addAbortSignal(signal, body);
    if (!range) return { info: infoFromHead(valid, out), body };

    const got = parseContentRange(out.ContentRange);
    const size = got?.size ?? out.ContentLength ?? 0;
    if (range.start >= size) {
      body.destroy();
      throw new StowageError(
        'INVALID_RANGE',
        `range starts at byte ${range.start} but "${valid}" has ${size} bytes`,
        {
          key: valid,
        },
      );
    }
    const want = { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
    body = trimToRange(body, got ?? { start: 0, end: size - 1 }, want, valid);
    return { info: infoFromHead(valid, out, size), body, range: want };
  }

  async head(key: string): Promise<ObjectInfo> {
    const valid = validateKey(key);
    return this.headValid(valid);
  }

  async exists(key: string): Promise<boolean> {
    return foundOrNot(this.head(key));
  }

  async delete(key: string): Promise<void> {
    const valid = validateKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.s3Key(valid) }));
    } catch (err) {
      // S3 answers 204 for a missing key; some compatible stores answer 404. Either way: deleted.
      const name = (err as { name?: string })?.name;
      if (name === 'NoSuchKey' || name === 'NotFound') return;
      throw mapS3Error(err, 'deleting', valid);
    }
  }

  /**
   * Deletes many keys with DeleteObjects, 1,000 per request (idempotent like
   * delete()). Not part of the Storage contract: an S3 extra for cleanups.
   * Stores without DeleteObjects (the preset's batchDelete: false, or a
   * NotImplemented answer) get one DeleteObject per key instead.
   */
  async deleteMany(keys: Iterable<string>): Promise<void> {
    const valid = [...keys].map((key) => validateKey(key));
    for (let i = 0; i < valid.length; i += 1000) {
      const batch = valid.slice(i, i + 1000);
      if (!this.batchDelete) {
        await this.deleteEach(batch);
        continue;
      }
      let out: Awaited<ReturnType<typeof this.deleteBatch>>;
      try {
        out = await this.deleteBatch(batch);
      } catch (err) {
        if (!isNotImplemented(err))
          throw mapS3Error(err, 'deleting', `${batch.length} keys from ${batch[0]}`);
        this.batchDelete = false; // This store has no DeleteObjects: stop asking.
        await this.deleteEach(batch);
        continue;
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length) {
        const first = failed[0]!;
        const key = first.Key?.slice(this.options.rootPrefix.length);
        throw mapS3Error(
          { name: first.Code, message: first.Message, $metadata: {} },
          `deleting (${failed.length} of ${batch.length} failed, first)`,
          key,
        );
      }
    }
  }

  async *list(prefix?: string, opts?: ListOptions): AsyncIterable<ListedObject> {
    const validPrefix = validatePrefix(prefix);
    const { pageSize, startAfter, signal } = checkListOptions(opts, {
      defaultPageSize: 1000,
      maxPageSize: 1000,
      name: 'S3',
    });
    const root = this.options.rootPrefix;
    const tokens = new PageTokens('ListObjectsV2');
    let token: string | undefined;
    let first = true;
    while (first || token) {
      throwIfAborted(signal);
      let page: Awaited<ReturnType<typeof this.listPage>>;
      try {
        page = await this.listPage(
          root + validPrefix,
          pageSize,
          first ? startAfter : undefined,
          token,
          signal,
        );
      } catch (err) {
        throw mapS3Error(err, 'listing', validPrefix || '(all keys)', signal);
      }
      first = false;
      for (const entry of page.Contents ?? []) {
        const key = entry.Key?.slice(root.length);
        if (!key || !entry.Key?.startsWith(root) || !isValidKey(key)) continue; // Folder markers, foreign keys.
        const info: ListedObject = { key, size: entry.Size ?? 0 };
        if (entry.ETag) info.etag = entry.ETag;
        if (entry.LastModified) info.lastModified = entry.LastModified;
        yield info;
      }
      token = tokens.next(page.IsTruncated ? page.NextContinuationToken : undefined);
    }
  }

  async copy(from: string, to: string): Promise<ObjectInfo> {
    const source = validateKey(from, 'from');
    const target = validateKey(to, 'to');
    const info = await this.headValid(source);
    if (source === target) return info;
    const copyTarget = {
      client: this.client,
      options: this.options,
      fromS3Key: this.s3Key(source),
      toS3Key: this.s3Key(target),
      source: info,
    };
    try {
      const result =
        info.size > this.options.multipartCopyThreshold
          ? await multipartCopy(copyTarget)
          : await copyObject(copyTarget);
      const copied: ObjectInfo = { ...info, key: target, metadata: { ...info.metadata } };
      if (result.etag) copied.etag = result.etag;
      if ('lastModified' in result && result.lastModified instanceof Date)
        copied.lastModified = result.lastModified;
      return copied;
    } catch (err) {
      throw mapS3Error(err, `copying "${source}" to`, target);
    }
  }

  async url(key: string, opts?: UrlOptions): Promise<string> {
    const valid = validateKey(key);
    const options = checkUrlOptions(opts);
    if ((options as { transform?: unknown }).transform !== undefined) {
      throw new StowageError('NOT_SUPPORTED', 'S3 has no transformations; drop options.transform', {
        key: valid,
      });
    }
    if (options.expiresIn === undefined && !options.download)
      return publicUrl(this.options, this.s3Key(valid));
    return signedGetUrl(
      this.client,
      this.options,
      this.s3Key(valid),
      valid,
      options.expiresIn,
      options.download,
    );
  }

  /**
   * A browser upload grant: a POST policy where the store takes POST uploads
   * (size range and type enforced by the store), else a presigned PUT with
   * the exact size and type signed in (`opts.size` required). `opts.method`
   * forces one.
   */
  async presignUpload(key: string, opts: PresignUploadOptions): Promise<DirectUpload> {
    const valid = validateKey(key);
    const method = choosePresignMethod(opts, this.options.preset);
    if (method === 'POST') return presignPost(this.client, this.options, this.s3Key(valid), valid, opts);
    return presignPut(this.client, this.options, putRequestOf(this.s3Key(valid), valid, opts));
  }

  /** Resumable uploads in parts, signed for a browser (see MultipartUploads). */
  get multipartUpload(): MultipartUploads {
    this.multipart ??= new S3MultipartUploads(this.client, this.options, (key) =>
      this.s3Key(validateKey(key)),
    );
    return this.multipart;
  }

  /**
   * Aborts multipart uploads under `prefix` (a key prefix of this storage) started before
   * `olderThan`, and returns them (with `dryRun`, only lists them). sweepStaged() calls it.
   */
  async sweepIncompleteUploads(
    prefix: string,
    olderThan: Date,
    opts: SweepIncompleteOptions = {},
  ): Promise<IncompleteUpload[]> {
    const validPrefix = validatePrefix(prefix);
    if (!(olderThan instanceof Date) || !Number.isFinite(olderThan.getTime())) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        'sweepIncompleteUploads(prefix, olderThan): olderThan must be a valid Date',
      );
    }
    const pageSize = opts.pageSize;
    if (pageSize !== undefined && (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000)) {
      throw new StowageError(
        'INVALID_ARGUMENT',
        `options.pageSize must be an integer from 1 to 1000 for S3, got ${String(pageSize)}`,
      );
    }
    try {
      const found = await sweepIncompleteUploads(
        this.client,
        this.bucket,
        this.s3Key(validPrefix),
        olderThan,
        opts,
      );
      const root = this.options.rootPrefix;
      return found.map((upload) => ({ ...upload, key: upload.key.slice(root.length) }));
    } catch (err) {
      if (isNotImplemented(err)) {
        throw new StowageError(
          'NOT_SUPPORTED',
          'this S3-compatible store cannot list multipart uploads (ListMultipartUploads); use a bucket lifecycle rule to expire them',
          { cause: err },
        );
      }
      throw mapS3Error(err, 'sweeping incomplete uploads under', validPrefix || '(all keys)', opts.signal);
    }
  }

  private s3Key(key: string): string {
    return this.options.rootPrefix + key;
  }

  private async headValid(key: string): Promise<ObjectInfo> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.s3Key(key) }),
      );
      return infoFromHead(key, out);
    } catch (err) {
      throw mapS3Error(err, 'reading', key);
    }
  }

  /** Single deletes, a few at a time: for stores without DeleteObjects. */
  private async deleteEach(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += SINGLE_DELETES_IN_FLIGHT) {
      await Promise.all(keys.slice(i, i + SINGLE_DELETES_IN_FLIGHT).map((key) => this.delete(key)));
    }
  }

  private deleteBatch(keys: string[]) {
    return this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((key) => ({ Key: this.s3Key(key) })), Quiet: true },
      }),
    );
  }

  private listPage(
    prefix: string,
    pageSize: number,
    startAfter: string | undefined,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    return this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix || undefined,
        MaxKeys: pageSize,
        ...(startAfter ? { StartAfter: this.options.rootPrefix + startAfter } : {}),
        ...(token ? { ContinuationToken: token } : {}),
      }),
      { abortSignal: signal },
    );
  }
}

/** The store does not implement the operation (501 NotImplemented). */
function isNotImplemented(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NotImplemented' || e?.$metadata?.httpStatusCode === 501;
}

function isValidKey(key: string): boolean {
  try {
    return validateKey(key) === key;
  } catch {
    return false;
  }
}
