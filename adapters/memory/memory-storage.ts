import { Readable, Writable } from 'node:stream';
import { defaultContentType } from '../../src/adapter-kit/content-type.js';
import { checkListOptions } from '../../src/adapter-kit/list-options.js';
import { beginWrite, writeFailure } from '../../src/adapter-kit/write.js';
import { checkOptionsObject, checkRange, checkUrlOptions, resolveRange } from '../../src/core/args.js';
import { StowageError, throwIfAborted } from '../../src/core/errors.js';
import { encodeKeyPath, validateKey, validatePrefix } from '../../src/core/keys.js';
import type {
  Body,
  Capabilities,
  GetOptions,
  GetResult,
  ListOptions,
  ObjectInfo,
  PutOptions,
  Storage,
  UrlOptions,
} from '../../src/core/types.js';
import { withDownloadParam } from '../../src/util/content-disposition.js';
import { compareKeys, etagFromSha256 } from '../../src/util/ordering.js';

export interface MemoryStorageOptions {
  /** Base URL that url() builds on; defaults to "memory://". */
  baseUrl?: string;
}

interface Entry {
  data: Buffer;
  info: ObjectInfo;
}

/**
 * Objects in a Map, for your own tests (`memory://`). Same contract and
 * same checks as every other adapter; nothing survives the process.
 */
export class MemoryStorage implements Storage {
  readonly name = 'memory';
  readonly capabilities: Capabilities = {
    rangeReads: true,
    copy: true,
    signedUrls: false,
    metadata: true,
    contentType: true,
    sortedList: true,
    listDetails: true,
    maxObjectSize: 2 ** 31 - 1,
    keyIsAlsoPrefix: true,
    beforeCommit: true,
  };
  private readonly objects = new Map<string, Entry>();
  private readonly baseUrl: string;

  constructor(options: MemoryStorageOptions = {}) {
    checkOptionsObject(options, 'MemoryStorage options');
    this.baseUrl = (options.baseUrl ?? 'memory://').replace(/\/+$/, '');
  }

  /** Number of stored objects (handy in tests). */
  get size(): number {
    return this.objects.size;
  }

  async put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo> {
    const write = beginWrite(this, key, body, opts);
    const chunks: Buffer[] = [];
    try {
      await write.pipeTo(
        new Writable({
          write(chunk: Buffer, _enc, done) {
            chunks.push(chunk);
            done();
          },
        }),
      );
      const { sha256 } = await write.publishable();
      const { key: valid, options } = write;
      const data = Buffer.concat(chunks);
      const info: ObjectInfo = {
        key: valid,
        size: data.length,
        etag: etagFromSha256(sha256),
        lastModified: new Date(),
        metadata: { ...(options.metadata ?? {}) },
        sha256,
        contentType: defaultContentType(valid, options.contentType),
      };
      this.objects.set(valid, { data, info });
      return cloneInfo(info);
    } catch (err) {
      throw writeFailure(write, err);
    }
  }

  async get(key: string, opts?: GetOptions): Promise<GetResult> {
    const valid = validateKey(key);
    checkOptionsObject(opts, 'get options');
    const range = checkRange(opts?.range);
    throwIfAborted(opts?.signal, valid);
    const entry = this.entry(valid);
    if (!range) return { info: cloneInfo(entry.info), body: Readable.from(chunked(entry.data)) };
    const resolved = resolveRange(range, entry.data.length, valid);
    const slice = entry.data.subarray(resolved.start, resolved.end + 1);
    return { info: cloneInfo(entry.info), body: Readable.from(chunked(slice)), range: resolved };
  }

  async head(key: string): Promise<ObjectInfo> {
    return cloneInfo(this.entry(validateKey(key)).info);
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(validateKey(key));
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(validateKey(key));
  }

  async *list(prefix?: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    const validPrefix = validatePrefix(prefix);
    // Memory has no pages: pageSize is checked, then has nothing to size.
    const { startAfter, signal } = checkListOptions(opts, { defaultPageSize: 1 });
    const keys = [...this.objects.keys()]
      .filter(
        (k) => k.startsWith(validPrefix) && (startAfter === undefined || compareKeys(k, startAfter) > 0),
      )
      .sort(compareKeys);
    for (const key of keys) {
      throwIfAborted(signal);
      const entry = this.objects.get(key);
      if (entry) yield cloneInfo(entry.info);
    }
  }

  async copy(from: string, to: string): Promise<ObjectInfo> {
    const sourceKey = validateKey(from, 'from');
    const target = validateKey(to, 'to');
    const source = this.entry(sourceKey);
    const info: ObjectInfo = { ...cloneInfo(source.info), key: target, lastModified: new Date() };
    this.objects.set(target, { data: source.data, info });
    return cloneInfo(info);
  }

  async url(key: string, opts?: UrlOptions): Promise<string> {
    const valid = validateKey(key);
    const options = checkUrlOptions(opts);
    if (options.expiresIn !== undefined || (options as { transform?: unknown }).transform !== undefined) {
      throw new StowageError('NOT_SUPPORTED', 'the memory adapter cannot sign or transform URLs', {
        key: valid,
      });
    }
    return withDownloadParam(`${this.baseUrl}/${encodeKeyPath(valid)}`, options.download);
  }

  private entry(key: string): Entry {
    const entry = this.objects.get(key);
    if (!entry) throw new StowageError('NOT_FOUND', `no object at key "${key}"`, { key });
    return entry;
  }
}

function cloneInfo(info: ObjectInfo): ObjectInfo {
  return { ...info, metadata: { ...info.metadata } };
}

/** Streams big buffers in 64 KiB slices, like a file would arrive. */
function* chunked(data: Buffer): Generator<Buffer> {
  for (let i = 0; i < data.length; i += 65_536) yield data.subarray(i, i + 65_536);
}
