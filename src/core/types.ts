import type { Readable } from 'node:stream';

/** What put() accepts. Length may be unknown. */
export type Body = Readable | Uint8Array | string | AsyncIterable<Uint8Array | string>;

export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  contentType?: string;
  lastModified?: Date;
  /** User metadata: lower-case ASCII keys, string values. */
  metadata: Record<string, string>;
  /** Hex sha256 of the content, where the backend knows it. */
  sha256?: string;
}

/**
 * What list() yields. `key` and `size` are always there, `etag` and
 * `lastModified` on every built-in adapter; `contentType`, `metadata` and
 * `sha256` only where `capabilities.listDetails` is true, and then equal to
 * head()'s. Where it is false they are absent, not guessed: head() the key.
 */
export interface ListedObject {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
  metadata?: Record<string, string>;
  sha256?: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive; omitted means to the end. */
  end?: number;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Known length in bytes; the write fails if the body differs. */
  size?: number;
  /** Expected hex sha256; the write fails with CHECKSUM_MISMATCH and stores nothing if it differs. */
  sha256?: string;
  /** Fail with TOO_LARGE (and store nothing) once the body exceeds this many bytes. */
  maxSize?: number;
  cacheControl?: string;
  contentDisposition?: string;
  signal?: AbortSignal;
  /**
   * Two-phase write, where `capabilities.beforeCommit` is true: called once the
   * whole body is held out of sight and verified, before anything is visible at
   * the key. The object is published only when the returned promise resolves;
   * if it rejects, the held bytes are discarded, the key keeps what it had and
   * put() rejects with that error. upload() uses it to publish a request's
   * files only after all of them passed, without a copy.
   */
  beforeCommit?: (staged: StagedDigest) => Promise<void>;
}

/** What a two-phase write holds when it asks to publish. */
export interface StagedDigest {
  size: number;
  sha256: string;
}

export interface GetOptions {
  range?: ByteRange;
  signal?: AbortSignal;
}

export interface GetResult {
  info: ObjectInfo;
  body: Readable;
  /** The inclusive range actually returned, when a range was asked for. */
  range?: { start: number; end: number };
}

export interface ListOptions {
  /** Entries fetched per backend request (pages under the hood). */
  pageSize?: number;
  /** Resume a listing after this key (exclusive). */
  startAfter?: string;
  signal?: AbortSignal;
}

export interface UrlOptions {
  /** Seconds the URL stays valid; asks for a signed URL. */
  expiresIn?: number;
  /** Ask the browser to download: true, or the file name to offer. */
  download?: boolean | string;
}

export interface PresignUploadOptions {
  /** Largest accepted upload in bytes (enforced by the backend where it can). */
  maxSize: number;
  /**
   * Exact size of the file in bytes. A presigned PUT signs it as Content-Length,
   * so the store refuses any other size; a PUT cannot be granted without it.
   */
  size?: number;
  /**
   * 'POST' (a policy form: size range, type condition) or 'PUT' (one signed
   * request: exact size and type). Default: POST where the backend takes it, else PUT.
   */
  method?: 'POST' | 'PUT';
  /** Exact content type, or a prefix ending in "/" such as "image/" (POST only: a PUT signs an exact type). */
  contentType?: string;
  /** Seconds the upload grant stays valid (default 600). */
  expiresIn?: number;
  metadata?: Record<string, string>;
}

/** Everything a browser needs to upload straight to the backend. */
export interface DirectUpload {
  key: string;
  method: 'POST' | 'PUT';
  url: string;
  /** Form fields to send before the file (POST), in order. */
  fields: Record<string, string>;
  /** Name of the form field that carries the file (POST). */
  fileField: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

/** One part a multipart upload already holds. */
export interface UploadedPart {
  /** 1 to 10,000. */
  partNumber: number;
  size: number;
  etag: string;
}

/** A presigned request for one part: the browser PUTs the part's bytes to `url`. */
export interface SignedPart {
  partNumber: number;
  url: string;
  /** Headers the request must carry (none for S3). */
  headers: Record<string, string>;
  expiresAt: Date;
}

/**
 * Resumable uploads in parts, driven by a browser: the server creates the
 * upload, signs each part, lists what arrived and completes or aborts; the
 * bytes go from the browser to the backend. Parts are numbered from 1; all
 * parts but the last must be the same size (`partSize()` gives one every
 * backend accepts). Nothing is visible at `key` before `complete()`.
 */
export interface MultipartUploads {
  /** Part size for a file of `size` bytes: equal parts except the last, within the backend's limits. */
  partSize(size: number): number;
  /** Largest number of parts in one upload. */
  readonly maxParts: number;
  /** Smallest part (except the last), in bytes. */
  readonly minPartSize: number;
  create(
    key: string,
    opts?: { contentType?: string; metadata?: Record<string, string> },
  ): Promise<{ uploadId: string }>;
  /** Presigned part uploads, valid for `expiresIn` seconds (default 600). */
  signParts(
    key: string,
    uploadId: string,
    partNumbers: number[],
    opts?: { expiresIn?: number },
  ): Promise<SignedPart[]>;
  /** Parts received so far, in part-number order. NOT_FOUND when the upload is unknown (aborted, completed). */
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  /** Joins the parts into the object at `key`. */
  complete(
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
  ): Promise<ObjectInfo>;
  /** Drops the upload and its parts; idempotent. */
  abort(key: string, uploadId: string): Promise<void>;
}

/** A multipart upload a backend holds unfinished (S3): its parts cost storage until it is aborted. */
export interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface SweepIncompleteOptions {
  /** List what would be aborted, abort nothing. */
  dryRun?: boolean;
  /** Uploads fetched per backend request (pages under the hood). */
  pageSize?: number;
  signal?: AbortSignal;
}

/**
 * What a backend really cannot do, declared rather than faked or skipped.
 * Capabilities describe methods every adapter has (get, list, copy, url, put);
 * a feature only some backends offer is an optional member instead
 * (`presignUpload`, `multipartUpload`, `sweepIncompleteUploads`): present means supported.
 */
export interface Capabilities {
  rangeReads: boolean;
  copy: boolean;
  signedUrls: boolean;
  /** User metadata round-trips. */
  metadata: boolean;
  /** Content type given at put() round-trips exactly. */
  contentType: boolean;
  /** list() returns keys in lexicographic (UTF-8 byte) order. */
  sortedList: boolean;
  /**
   * list() entries carry `contentType`, `metadata` and `sha256` as head() gives them;
   * false where the backend's listing has only key, size, etag and date (S3's ListObjectsV2).
   */
  listDetails: boolean;
  /** Largest single object, in bytes (Infinity when unbounded). */
  maxObjectSize: number;
  /** A key can be both an object and a prefix of others ("a" and "a/b"). */
  keyIsAlsoPrefix: boolean;
  /** put() honours `beforeCommit`: bytes are held unpublished until it resolves. */
  beforeCommit: boolean;
}

/** The contract every adapter implements. */
export interface Storage {
  /** Adapter name for logs: "local", "memory", "s3", "cloudinary". */
  readonly name: string;
  /** What the backend really cannot do; a method it lacks answers NOT_SUPPORTED. */
  readonly capabilities: Capabilities;
  /**
   * Stores `body` at `key`, replacing what was there only once the whole body
   * arrived and was verified (`size`, `sha256`, `maxSize`).
   * @throws INVALID_KEY, INVALID_ARGUMENT (options, body type), TOO_LARGE,
   *   CHECKSUM_MISMATCH (size or sha256 differ), ABORTED (signal, or the body
   *   stream failed), ACCESS_DENIED, UNAVAILABLE (retryable), DISK_FULL.
   *   Every failure leaves the previous object whole and nothing half-written.
   */
  put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo>;
  /**
   * Reads the object, or an inclusive byte range of it (an end past the size is clamped).
   * @throws NOT_FOUND, INVALID_KEY, INVALID_RANGE (start past the end), NOT_SUPPORTED
   *   (ranges where `capabilities.rangeReads` is false), ACCESS_DENIED, UNAVAILABLE.
   */
  get(key: string, opts?: GetOptions): Promise<GetResult>;
  /**
   * The object's size, type, metadata, dates and sha256 (where known), without its bytes.
   * @throws NOT_FOUND when missing, INVALID_KEY.
   */
  head(key: string): Promise<ObjectInfo>;
  /** True when an object is stored at `key`. @throws INVALID_KEY. */
  exists(key: string): Promise<boolean>;
  /** Removes the object; idempotent (a missing key succeeds); never touches neighbours. @throws INVALID_KEY. */
  delete(key: string): Promise<void>;
  /**
   * Every object whose key starts with `prefix` (a directory or a partial
   * name), paging under the hood; in byte order where `capabilities.sortedList`.
   * Each entry has `key` and `size`; what else it carries is said by `ListedObject`
   * and `capabilities.listDetails`.
   * @throws INVALID_KEY (hostile prefix), INVALID_ARGUMENT (options).
   */
  list(prefix?: string, opts?: ListOptions): AsyncIterable<ListedObject>;
  /**
   * Copies content, type and metadata from `from` to `to`, leaving `from`.
   * @throws NOT_FOUND (`from` missing), INVALID_KEY, NOT_SUPPORTED (`capabilities.copy` false).
   */
  copy(from: string, to: string): Promise<ObjectInfo>;
  /**
   * A URL for the object: public, or signed for `expiresIn` seconds; `download`
   * asks the browser to save it (RFC 6266 name).
   * @throws INVALID_ARGUMENT, NOT_SUPPORTED (no public or signed URLs here).
   */
  url(key: string, opts?: UrlOptions): Promise<string>;
  /**
   * A grant for a browser to upload straight to the backend (POST form or
   * signed PUT). Present only on adapters that can grant one: its absence is
   * the one signal that a backend takes no browser uploads.
   * @throws INVALID_ARGUMENT (options), NOT_SUPPORTED (the store's profile refuses this grant).
   */
  presignUpload?(key: string, opts: PresignUploadOptions): Promise<DirectUpload>;
  /** Resumable browser uploads in parts, where the backend has them (S3). */
  readonly multipartUpload?: MultipartUploads;
  /**
   * Where the backend keeps unfinished multipart uploads (S3): aborts those under `prefix`
   * started before `olderThan` and returns them. NOT_SUPPORTED where the store cannot list them.
   * sweepStaged() and `stowage sweep` call it on the staging prefix.
   */
  sweepIncompleteUploads?(
    prefix: string,
    olderThan: Date,
    opts?: SweepIncompleteOptions,
  ): Promise<IncompleteUpload[]>;
}
