import { constants } from 'node:fs';
import { lstat, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { defaultContentType } from '../../src/adapter-kit/content-type.js';
import { checkListOptions } from '../../src/adapter-kit/list-options.js';
import { beginWrite, writeFailure } from '../../src/adapter-kit/write.js';
import { warnIfEphemeral } from '../../src/config/platform.js';
import {
  checkOptionsObject,
  checkRange,
  checkUrlOptions,
  invalidArg,
  resolveRange,
} from '../../src/core/args.js';
import { foundOrNot, isStowageError, StowageError, throwIfAborted } from '../../src/core/errors.js';
import { encodeKeyPath, validatePrefix } from '../../src/core/keys.js';
import type {
  Body,
  Capabilities,
  GetOptions,
  GetResult,
  ListOptions,
  ObjectInfo,
  PutOptions,
  StagedDigest,
  Storage,
  UrlOptions,
} from '../../src/core/types.js';
import { withDownloadParam } from '../../src/util/content-disposition.js';
import { KeyedMutex } from '../../src/util/keyed-mutex.js';
import { etagFromSha256 } from '../../src/util/ordering.js';
import { isNotFound, mapFsError } from './fs-errors.js';
import { SafeRoot } from './safe-root.js';
import { readSidecar, removeSidecar, type SidecarRecord, sidecarPath, stageSidecar } from './sidecar.js';
import { syncDir, TEMP_PREFIX, TempWrite } from './temp-write.js';
import { walkKeys } from './walk.js';

export interface LocalStorageOptions {
  /** Directory holding the objects; created on first use. */
  root: string;
  /** Base URL that url() builds on, e.g. "/files" where serve() is mounted. */
  baseUrl?: string;
}

/**
 * Objects as plain files under a root directory. Writes go to a temp file
 * in the same directory, are fsynced, then renamed over the key, so a
 * failed write never damages what was stored. Content type, metadata and
 * sha256 live in a sidecar `.stowage.<name>.json` beside each file.
 */
export class LocalStorage implements Storage {
  readonly name = 'local';
  readonly capabilities: Capabilities = {
    rangeReads: true,
    copy: true,
    signedUrls: false,
    metadata: true,
    contentType: true,
    sortedList: true,
    listDetails: true,
    maxObjectSize: Number.POSITIVE_INFINITY,
    keyIsAlsoPrefix: false,
    beforeCommit: true,
  };
  readonly root: string;
  private readonly baseUrl: string | undefined;
  private readonly safe: SafeRoot;
  private readonly commits = new KeyedMutex();

  constructor(options: LocalStorageOptions | string) {
    const opts = typeof options === 'string' ? { root: options } : options;
    checkOptionsObject(opts, 'LocalStorage options');
    if (typeof opts?.root !== 'string' || opts.root === '') {
      throw invalidArg('LocalStorage needs options.root, the directory to store files in');
    }
    if (opts.baseUrl !== undefined && typeof opts.baseUrl !== 'string')
      throw invalidArg('options.baseUrl must be a string');
    this.root = resolve(opts.root);
    this.baseUrl = opts.baseUrl?.replace(/\/+$/, '');
    this.safe = new SafeRoot(this.root);
    warnIfEphemeral(`LocalStorage at ${this.root}`);
  }

  /** Write (TempWrite: a verified, fsynced temp file), then wait for beforeCommit, then commit(). */
  async put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo> {
    const write = beginWrite(this, key, body, opts, { key: (k) => this.safe.segments(k).key });
    let temp: TempWrite | undefined;
    try {
      const segments = write.key.split('/');
      temp = new TempWrite(await this.safe.dirForWrite(segments, write.key), segments.at(-1)!);
      await temp.fill(write);
      // Held in the temp file until the caller says publish (outside the per-key lock: it may wait long).
      const staged = await write.publishable();
      const record = sidecarRecord(write.options, staged, write.key, (await stat(temp.data)).ino);
      await this.commit(write.key, temp, record, write.options.signal);
      return this.infoFrom(write.key, await stat(temp.target), record);
    } catch (err) {
      await temp?.discard();
      throw writeFailure(write, err, (e) => mapFsError(e, write.key, 'writing'));
    }
  }

  /**
   * The commit half of put(): renames a staged write over its key. One commit
   * per key at a time, so the sidecar and the data always come from the same writer.
   */
  private async commit(
    key: string,
    temp: TempWrite,
    record: SidecarRecord,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.commits.run(temp.target, async () => {
      throwIfAborted(signal, key);
      const placeSidecar = await stageSidecar(temp.target, temp.meta, record);
      if ((await lstat(temp.target).catch(() => undefined))?.isDirectory()) {
        throw new StowageError(
          'INVALID_KEY',
          `"${key}" already holds other keys ("${key}/…"): on local disk a key cannot be both an object and a folder`,
          { key },
        );
      }
      // The data first: a crash between the two renames leaves the new bytes without their record
      // (defaults until the next write), never the previous object stripped of its own.
      await rename(temp.data, temp.target);
      await placeSidecar();
    });
    await syncDir(temp.dir);
  }

  async get(key: string, opts?: GetOptions): Promise<GetResult> {
    const { key: valid, segments } = this.safe.segments(key);
    checkOptionsObject(opts, 'get options');
    const range = checkRange(opts?.range);
    throwIfAborted(opts?.signal, valid);
    const dir = await this.safe.dirForRead(segments);
    if (!dir) throw notFound(valid);
    const dataPath = join(dir, segments.at(-1)!);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(dataPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw mapFsError(err, valid, 'reading');
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw notFound(valid);
      const info = this.infoFrom(valid, st, await readSidecar(dataPath, st.ino, st.size));
      const resolved = range ? resolveRange(range, st.size, valid) : undefined;
      // The stream owns the handle from here: it closes it at end, error or destroy.
      const body: Readable = handle.createReadStream(
        resolved ? { start: resolved.start, end: resolved.end } : {},
      );
      if (opts?.signal) addAbortSignal(opts.signal, body);
      return resolved ? { info, body, range: resolved } : { info, body };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw mapFsError(err, valid, 'reading');
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    const { key: valid, segments } = this.safe.segments(key);
    return this.headSegments(valid, segments);
  }

  async exists(key: string): Promise<boolean> {
    return foundOrNot(this.head(key));
  }

  async delete(key: string): Promise<void> {
    const { key: valid, segments } = this.safe.segments(key);
    const dir = await this.safe.dirForRead(segments);
    if (!dir) return;
    const dataPath = join(dir, segments.at(-1)!);
    try {
      const st = await lstat(dataPath);
      if (!st.isFile()) return; // A prefix of other keys, or a link: not an object.
      await this.commits.run(dataPath, async () => {
        await unlink(dataPath);
        await removeSidecar(dataPath);
      });
    } catch (err) {
      if (!isNotFound(err)) throw mapFsError(err, valid, 'deleting');
    }
    await this.pruneEmptyDirs(dir);
  }

  async *list(prefix?: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    const validPrefix = validatePrefix(prefix);
    // The walk reads whole directories: pageSize is checked, then has nothing to size.
    const { startAfter, signal } = checkListOptions(opts, { defaultPageSize: 1 });
    // The walk hands over each key's checked directory: no check per key.
    for await (const { key, dir, name } of walkKeys(this.safe, validPrefix, startAfter)) {
      throwIfAborted(signal);
      try {
        yield await this.headIn(dir, name, key);
      } catch (err) {
        if (!isStowageError(err, 'NOT_FOUND')) throw err; // Deleted while listing.
      }
    }
  }

  async copy(from: string, to: string): Promise<ObjectInfo> {
    const source = this.safe.segments(from).key;
    const target = this.safe.segments(to).key;
    const { info, body } = await this.get(source);
    const opts: PutOptions = { metadata: info.metadata, size: info.size };
    if (info.contentType) opts.contentType = info.contentType;
    if (info.sha256) opts.sha256 = info.sha256;
    return this.put(target, body, opts);
  }

  async url(key: string, opts?: UrlOptions): Promise<string> {
    const { key: valid } = this.safe.segments(key);
    const options = checkUrlOptions(opts);
    if (options.expiresIn !== undefined) {
      throw new StowageError(
        'NOT_SUPPORTED',
        'the local adapter cannot sign URLs; serve files with serve() behind your own auth',
        { key: valid },
      );
    }
    if ((options as { transform?: unknown }).transform !== undefined)
      throw new StowageError('NOT_SUPPORTED', 'the local adapter has no transformations', { key: valid });
    if (this.baseUrl === undefined) {
      throw new StowageError(
        'NOT_SUPPORTED',
        'LocalStorage has no baseUrl, so url() cannot tell where its files are served: pass { baseUrl: "/files" } where serve() is mounted, or configure a storage URL such as file:./uploads?baseUrl=/files',
        { key: valid },
      );
    }
    return withDownloadParam(`${this.baseUrl}/${encodeKeyPath(valid)}`, options.download);
  }

  /** Deletes temp files left by a crashed process that are older than `olderThanMs` (default 1 h). */
  async sweepTemp(olderThanMs = 3_600_000): Promise<number> {
    const root = await this.safe.real();
    return sweepDir(root, Date.now() - olderThanMs);
  }

  private async headSegments(valid: string, segments: string[]): Promise<ObjectInfo> {
    const dir = await this.safe.dirForRead(segments);
    if (!dir) throw notFound(valid);
    return this.headIn(dir, segments.at(-1)!, valid);
  }

  /** Reads the info of file `name` in `dir`, a real directory already checked to be inside the root. */
  private async headIn(dir: string, name: string, valid: string): Promise<ObjectInfo> {
    const dataPath = join(dir, name);
    try {
      const st = await lstat(dataPath);
      if (!st.isFile()) throw notFound(valid);
      return this.infoFrom(valid, st, await readSidecar(dataPath, st.ino, st.size));
    } catch (err) {
      throw mapFsError(err, valid, 'reading');
    }
  }

  private infoFrom(
    key: string,
    st: { size: number; mtime: Date; mtimeMs: number },
    record?: SidecarRecord,
  ): ObjectInfo {
    const info: ObjectInfo = {
      key,
      size: st.size,
      lastModified: st.mtime,
      metadata: record ? { ...record.metadata } : {},
      etag: record
        ? etagFromSha256(record.sha256)
        : `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
    };
    info.contentType = defaultContentType(key, record?.contentType);
    if (record) info.sha256 = record.sha256;
    return info;
  }

  private async pruneEmptyDirs(dir: string): Promise<void> {
    const root = await this.safe.real();
    let current = dir;
    while (current !== root && current.startsWith(root)) {
      try {
        await rmdir(current);
      } catch {
        return; // Not empty (or gone): stop climbing.
      }
      current = dirname(current);
    }
  }
}

function sidecarRecord(options: PutOptions, staged: StagedDigest, key: string, ino: number): SidecarRecord {
  const record: SidecarRecord = {
    v: 1,
    ino,
    size: staged.size,
    sha256: staged.sha256,
    contentType: defaultContentType(key, options.contentType),
    metadata: options.metadata ?? {},
  };
  if (options.cacheControl) record.cacheControl = options.cacheControl;
  if (options.contentDisposition) record.contentDisposition = options.contentDisposition;
  return record;
}

function notFound(key: string): StowageError {
  return new StowageError('NOT_FOUND', `no object at key "${key}"`, { key });
}

async function sweepDir(dir: string, before: number): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removed += await sweepDir(path, before);
    else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
      const st = await stat(path).catch(() => undefined);
      if (
        st &&
        st.mtimeMs < before &&
        (await unlink(path).then(
          () => true,
          () => false,
        ))
      )
        removed++;
    }
  }
  return removed;
}

export { sidecarPath };
