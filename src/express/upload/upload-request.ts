import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import Busboy from 'busboy';
import { isAbortError, isStowageError, StowageError } from '../../core/errors.js';
import { DigestStream } from '../../core/integrity.js';
import type { StagedDigest, Storage } from '../../core/types.js';
import { discard, newStagingKey, promote } from '../../staging/staging.js';
import { deferred } from '../../util/deferred.js';
import { log } from '../../util/log.js';
import { ClientConnection } from './client-connection.js';
import { finalKeyFor, multipartFileName } from './naming.js';
import type { ResolvedUploadOptions, UploadOutcome } from './options.js';
import { peek } from './peek.js';
import type { UploadedFile, UploadResult } from './result.js';
import { requireAllowedType, SNIFF_BYTES } from './sniff.js';

export type Next = (err?: unknown) => void;

/** Where a checked file goes, known once its first bytes were sniffed. */
interface FileTarget {
  field: string;
  originalName: string;
  finalKey: string;
  contentType: string;
}

/** What a file's bytes are checked with before it may be published. */
interface FileChecks {
  label: string;
  /** busboy's part stream: `truncated` once it passed the size limit. */
  stream: Readable;
  digest: DigestStream;
}

/** A checked file, waiting for the whole request to pass. */
interface CheckedFile extends FileTarget, StagedDigest {
  /** The final key held no object before this request: a failed request removes what it put there. */
  fresh: boolean;
}

/**
 * How a checked file is published: a write held at its commit gate, where
 * the backend has two-phase writes (it lands when the gate opens), or an
 * object at a staging key, copied to its final key.
 */
type StagedFile =
  | (CheckedFile & { via: 'gate'; write: Promise<unknown> })
  | (CheckedFile & { via: 'copy'; stagingKey: string });

/**
 * Where the request is: still receiving (and, at the end, publishing);
 * failed, with the first error and whether the client left; or answered
 * with its files, after which nothing may fail it any more.
 */
type RequestState =
  | { phase: 'receiving' }
  | { phase: 'failed'; error: StowageError; clientGone: boolean }
  | { phase: 'answered' };

// An error answer should not wait on a slow backend's cleanup for long; cleanup carries on regardless.
const ANSWER_WAIT_MS = 2000;
// How long in-flight writes get to settle on their own after a failure before they are aborted.
const STORAGE_GRACE_MS = 15_000;

/**
 * One multipart request: parse, sniff and stream every file to a staging key,
 * then (only when everything passed) promote them to their final keys.
 * Any failure aborts in-flight writes, deletes what was staged and answers.
 */
export class UploadRequest {
  /** Fires at the first failure: stops sniffing, naming and waiting. */
  private readonly stop = new AbortController();
  /** Fires only when the backend does not settle in-flight writes in time (see cleanup()). */
  private readonly storageAbort = new AbortController();
  /** Bodies of in-flight writes: failing them ends each write through its own stream. */
  private readonly bodies = new Set<DigestStream>();
  private readonly fields: Record<string, string | string[]> = {};
  private readonly pending = new Set<Promise<void>>();
  private readonly staged: StagedFile[] = [];
  /**
   * Keys a failure must delete: staging keys that may exist in storage, and
   * final keys this request filled that were empty before.
   */
  private readonly leftovers = new Set<string>();
  /** Writes held at their commit gate; they settle only after publish opens or fails. */
  private readonly held = new Set<Promise<unknown>>();
  /** The commit gate of every held write: resolved once the whole request passed, rejected by fail(). */
  private readonly publish = deferred<void>();
  private readonly client: ClientConnection;
  private busboy: Busboy.Busboy | undefined;
  private state: RequestState = { phase: 'receiving' };

  constructor(
    private readonly storage: Storage,
    private readonly opts: ResolvedUploadOptions,
    private readonly req: IncomingMessage,
    res: ServerResponse,
    private readonly next: Next,
  ) {
    this.client = new ClientConnection(req, res);
  }

  /** The first failure, once there is one. */
  private get failure(): StowageError | undefined {
    return this.state.phase === 'failed' ? this.state.error : undefined;
  }

  start(): void {
    // A request whose files were all refused before their gate leaves nobody listening to it.
    this.publish.promise.catch(() => undefined);
    this.client.onGone(() => this.onClientGone());
    if (this.client.bodyAlreadyRead()) {
      // Waiting for bytes another body parser already took would hang the request.
      this.fail(
        malformed('the request body was already read by another body parser mounted before upload()'),
      );
      return;
    }
    const type = this.req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data\s*;/i.test(type)) {
      this.fail(malformed('expected a multipart/form-data request with a boundary'));
      return;
    }
    // Refused before a byte is read: no request within the limits is that long.
    const declared = Number(this.req.headers['content-length']);
    if (declared > this.opts.maxRequestBytes) {
      this.fail(
        tooLarge(
          `the request is ${declared} bytes long, more than any upload within the limits (${this.opts.maxFiles} files of ${this.opts.maxFileSize} bytes) can be`,
        ),
      );
      return;
    }
    let busboy: Busboy.Busboy;
    try {
      busboy = Busboy({
        headers: this.req.headers,
        defParamCharset: 'utf8',
        limits: {
          // One byte past the limit so an exactly-at-limit file is not flagged as truncated.
          fileSize: this.opts.maxFileSize + 1,
          files: this.opts.maxFiles,
          fields: this.opts.maxFields,
          fieldSize: this.opts.maxFieldSize,
        },
      });
    } catch (err) {
      this.fail(malformed(`malformed multipart request: ${(err as Error).message}`));
      return;
    }
    this.busboy = busboy;
    busboy.on('field', (name, value, info) => this.onField(name, value, info));
    busboy.on('file', (field, stream, info) => this.onFile(field, stream, info));
    busboy.on('filesLimit', () =>
      this.fail(tooLarge(`more than ${this.opts.maxFiles} files in one request`)),
    );
    busboy.on('fieldsLimit', () =>
      this.fail(tooLarge(`more than ${this.opts.maxFields} fields in one request`)),
    );
    busboy.on('error', (err: Error) => this.fail(malformed(`malformed multipart body: ${err.message}`)));
    busboy.on('close', () => {
      // Tracked like a write, so a cleanup waits for a promotion in progress.
      if (!this.failure) this.pending.add(this.finish().catch((err) => this.fail(asUploadError(err))));
    });
    this.req.pipe(busboy);
  }

  private onField(name: string, value: string, info: Busboy.FieldInfo): void {
    if (this.failure) return;
    if (info.valueTruncated || info.nameTruncated) {
      this.fail(tooLarge(`field "${name.slice(0, 80)}" is longer than ${this.opts.maxFieldSize} bytes`));
      return;
    }
    const existing = Object.hasOwn(this.fields, name) ? this.fields[name] : undefined;
    if (Array.isArray(existing)) existing.push(value);
    // defineProperty, not assignment: a field named "__proto__" must stay a plain field.
    else
      Object.defineProperty(this.fields, name, {
        value: existing === undefined ? value : [existing, value],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }

  private onFile(rawField: string | undefined, stream: Readable, info: Busboy.FileInfo): void {
    // busboy reports a part with name="" as an undefined field name.
    const field = rawField ?? '';
    // busboy destroys the part with an error when we stop parsing; the failure is already handled.
    stream.on('error', () => undefined);
    if (this.failure) {
      stream.resume();
      return;
    }
    if (this.opts.fileFields && !this.opts.fileFields.includes(field)) {
      stream.resume();
      this.fail(malformed(`unexpected file field "${field.slice(0, 80)}"`));
      return;
    }
    // busboy truncates at the limit and goes on quietly: make that a failure, even mid-sniff.
    stream.once('limit', () =>
      this.fail(
        tooLarge(`file in field "${field.slice(0, 80)}" is larger than ${this.opts.maxFileSize} bytes`),
      ),
    );
    const task = this.stageFile(field, stream, info).catch((err) => {
      stream.unpipe();
      stream.resume();
      this.fail(asUploadError(err));
    });
    this.pending.add(task);
  }

  private async stageFile(field: string, stream: Readable, info: Busboy.FileInfo): Promise<void> {
    const signal = this.stop.signal;
    const originalName = multipartFileName(info.filename);
    const { head, ended } = await peek(stream, SNIFF_BYTES, signal);
    // A browser form with an empty file input sends a nameless, empty part: not a file.
    if (ended && head.length === 0 && originalName === '') return;
    const label = `file "${originalName.slice(0, 80)}" in field "${field.slice(0, 80)}"`;
    const sniffed = await requireAllowedType(head, this.opts.allowedTypes, label);
    const contentType = sniffed?.mime ?? 'application/octet-stream';
    const finalKey = await finalKeyFor(this.opts.key, this.opts.prefix, {
      field,
      originalName,
      contentType: sniffed?.mime,
      extension: sniffed?.ext,
      fields: { ...this.fields },
      req: this.req,
    });
    if (signal.aborted) throw signal.reason;
    const digest = new DigestStream({ maxSize: this.opts.maxFileSize, label });
    // put() reports the digest's errors; this only keeps one raised before put() listens from crashing.
    digest.on('error', () => undefined);
    digest.write(head);
    if (ended) digest.end();
    else stream.pipe(digest);
    const file = { field, originalName, finalKey, contentType };
    const checks = { label, stream, digest };
    this.bodies.add(digest);
    try {
      if (this.storage.capabilities.beforeCommit) await this.holdAtGate(file, checks);
      else await this.writeStaged(file, checks);
    } catch (err) {
      digest.destroy();
      throw err;
    } finally {
      this.bodies.delete(digest);
    }
  }

  /** Two-phase write to the final key, held unpublished (temp file, open multipart upload) until finish(). */
  private async holdAtGate(file: FileTarget, checks: FileChecks): Promise<void> {
    const atGate = deferred<StagedDigest>();
    const write = this.storage.put(file.finalKey, checks.digest, {
      maxSize: this.opts.maxFileSize,
      contentType: file.contentType,
      signal: this.storageAbort.signal,
      beforeCommit: async (staged) => {
        atGate.resolve(staged);
        await this.publish.promise;
      },
    });
    this.held.add(write);
    write.catch(() => undefined).finally(() => this.held.delete(write));
    // put() settles only after the gate; reaching the gate (or failing before it) is what counts here.
    const staged = await Promise.race([atGate.promise, write.then(() => undefined)]);
    if (!staged) throw new StowageError('INTERNAL', `${checks.label}: published before the request passed`);
    const { size, sha256 } = this.passChecks(checks, staged);
    this.staged.push({ ...file, via: 'gate', write, size, sha256, fresh: await this.isEmpty(file.finalKey) });
  }

  /** Backends without two-phase writes: the whole file goes to a staging key, promoted by copy later. */
  private async writeStaged(file: FileTarget, checks: FileChecks): Promise<void> {
    const stagingKey = newStagingKey(this.opts.stagingPrefix);
    this.leftovers.add(stagingKey);
    const stored = await this.storage.put(stagingKey, checks.digest, {
      maxSize: this.opts.maxFileSize,
      contentType: file.contentType,
      signal: this.storageAbort.signal,
    });
    const { size, sha256 } = this.passChecks(checks, { size: stored.size, sha256: stored.sha256 });
    this.staged.push({
      ...file,
      via: 'copy',
      stagingKey,
      size,
      sha256,
      fresh: await this.isEmpty(file.finalKey),
    });
  }

  /**
   * Whether a final key holds no object yet. Default keys are new random names; a custom
   * key function may reuse one (e.g. "avatars/<user>"), whose object a rollback must not delete.
   */
  private async isEmpty(key: string): Promise<boolean> {
    if (!this.opts.key) return true;
    return !(await this.storage.exists(key));
  }

  /** Size limit and the backend's own count of the bytes against ours. */
  private passChecks(
    checks: FileChecks,
    stored: { size: number; sha256?: string | undefined },
  ): StagedDigest {
    if ((checks.stream as Readable & { truncated?: boolean }).truncated) {
      throw tooLarge(`${checks.label} is larger than ${this.opts.maxFileSize} bytes`);
    }
    const { size, sha256 } = checks.digest.digest();
    if (stored.size !== size || (stored.sha256 !== undefined && stored.sha256 !== sha256)) {
      // The store's fault, not the client's: UNAVAILABLE (503, retryable), as the error table says.
      throw new StowageError('UNAVAILABLE', `${checks.label}: storage holds different bytes than were sent`);
    }
    return { size, sha256 };
  }

  /** Busboy read the whole body: wait for the writes, then publish them all. */
  private async finish(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    // busboy can finish before the last bytes of the HTTP body arrive; a client that drops then has not uploaded.
    await this.client.bodyEnded(this.stop.signal);
    if (this.failure) return;
    const files: UploadedFile[] = [];
    try {
      // Every held write publishes at once (or, without two-phase writes, every staged copy is made).
      this.publish.resolve();
      const published = await Promise.allSettled(this.staged.map((file) => this.publishFile(file)));
      const refused = published.find((r) => r.status === 'rejected');
      if (refused) throw refused.reason;
      for (const file of this.staged) {
        files.push({
          field: file.field,
          key: file.finalKey,
          size: file.size,
          sha256: file.sha256,
          contentType: file.contentType,
          originalName: file.originalName,
          url: await this.urlOf(file.finalKey),
        });
      }
    } catch (err) {
      this.fail(asUploadError(err));
      return;
    }
    // The client left while we published: nobody will learn the new keys, so they must not stay.
    if (this.failure) return;
    this.state = { phase: 'answered' };
    const result: UploadResult = { files, fields: this.fields };
    const req = this.req as IncomingMessage & { stowage?: UploadResult; body?: unknown };
    req.stowage = result;
    // Like multer: fields land in req.body, unless a body parser put something real there.
    if (req.body === undefined || isEmptyPlainObject(req.body)) req.body = this.fields;
    this.report({ ok: true, files });
    this.next();
  }

  /**
   * Publishes one checked file. A key that was empty is ours to roll back from then on; a key
   * that held an object keeps the new, verified file on a later failure: the old one is gone
   * (no store has transactions across keys) and deleting the new one would leave nothing.
   */
  private async publishFile(file: StagedFile): Promise<void> {
    if (file.via === 'gate') await file.write;
    else {
      await promote(this.storage, file.stagingKey, file.finalKey, {
        size: file.size,
        sha256: file.sha256,
        contentType: file.contentType,
      });
      this.leftovers.delete(file.stagingKey);
    }
    if (file.fresh) this.leftovers.add(file.finalKey);
  }

  private async urlOf(key: string): Promise<string | undefined> {
    try {
      return await this.storage.url(key);
    } catch {
      return undefined; // e.g. LocalStorage without a baseUrl: the key is what matters.
    }
  }

  private report(outcome: UploadOutcome): void {
    try {
      this.opts.onComplete?.(outcome, this.req);
    } catch (err) {
      log.warn(`upload() onComplete threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private onClientGone(): void {
    if (this.state.phase === 'answered') return;
    if (this.state.phase === 'failed') this.state.clientGone = true;
    else this.fail(aborted(), { clientGone: true });
  }

  /** First failure wins: stop reading, abort writes, clean up, answer. */
  private fail(error: StowageError, { clientGone = false } = {}): void {
    if (this.state.phase !== 'receiving') return;
    const state = { phase: 'failed' as const, error, clientGone };
    this.state = state;
    this.stop.abort(error);
    // Held writes discard their bytes (temp file, multipart upload) instead of publishing.
    this.publish.reject(error);
    // Not the storage signal: a write whose body is complete may already be landing at the backend
    // (an aborted PutObject can still succeed there). Failing the bodies lets such writes finish,
    // so the cleanup that follows deletes what they stored instead of racing them.
    for (const body of this.bodies) body.destroy(error);
    this.stopParsing();
    const cleanup = this.cleanup();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ANSWER_WAIT_MS);
      timer.unref();
    });
    void Promise.race([cleanup, waited]).then(() => {
      clearTimeout(timer);
      this.answerError(error, state.clientGone);
    });
    void cleanup.then(() => {
      this.report({ ok: false, error: state.clientGone ? aborted() : error, files: [] });
    });
  }

  private stopParsing(): void {
    const busboy = this.busboy;
    if (busboy) {
      this.req.unpipe(busboy);
      busboy.removeAllListeners('file');
      busboy.removeAllListeners('field');
      busboy.on('error', () => undefined);
      // Not synchronously: fail() runs inside busboy's own event handlers, which touch state destroy() clears.
      setImmediate(() => busboy.destroy());
    }
    this.client.drainRefused(this.opts.drainLimit);
  }

  private async cleanup(): Promise<void> {
    const settled = Promise.all([Promise.allSettled([...this.pending]), Promise.allSettled([...this.held])]);
    // Backstop for a backend that never settles a write: abort it after a grace period.
    const timer = setTimeout(() => this.storageAbort.abort(this.failure), STORAGE_GRACE_MS);
    timer.unref();
    await settled;
    clearTimeout(timer);
    await Promise.all([...this.leftovers].map((key) => discard(this.storage, key)));
  }

  private answerError(error: StowageError, clientGone: boolean): void {
    if (!clientGone && this.client.canAnswer()) this.next(error);
  }
}

function isEmptyPlainObject(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.keys(value).length === 0
  );
}

function malformed(message: string): StowageError {
  return new StowageError('INVALID_ARGUMENT', message);
}

function tooLarge(message: string): StowageError {
  return new StowageError('TOO_LARGE', message);
}

function aborted(): StowageError {
  return new StowageError('ABORTED', 'the client closed the connection before the upload finished');
}

/** Storage failures surface as 503 so clients retry; our own checks keep their codes. */
function asUploadError(err: unknown): StowageError {
  if (isStowageError(err)) return err;
  if (isAbortError(err)) return aborted();
  return new StowageError('UNAVAILABLE', 'storage failed while receiving the upload', { cause: err });
}
