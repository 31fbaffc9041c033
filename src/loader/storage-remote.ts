import { StowageError } from '../core/errors.js';
import type { Storage } from '../core/types.js';
import {
  ObjectChangedError,
  RangeIgnoredError,
  type Remote,
  type RemoteBody,
  type RemoteMeta,
} from './remote.js';

/**
 * An object under a key of any Storage. Ranged reads use get({ range });
 * each response's ETag is compared with the pinned one (the contract has no
 * If-Match), so a replaced object is detected and the download restarts.
 */
export class StorageRemote implements Remote {
  readonly label: string;
  readonly identity: string;

  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    labelHint?: string,
  ) {
    this.label = labelHint ?? `${storage.name}:${key}`;
    const where =
      (storage as { root?: unknown; bucket?: unknown }).root ?? (storage as { bucket?: unknown }).bucket;
    this.identity = `storage:${storage.name}:${typeof where === 'string' ? where : ''}:${key}`;
  }

  async probe(_signal?: AbortSignal): Promise<RemoteMeta> {
    const info = await this.storage.head(this.key);
    const meta: RemoteMeta = { size: info.size, acceptsRanges: this.storage.capabilities.rangeReads };
    if (info.etag) meta.etag = info.etag;
    if (info.lastModified) meta.lastModified = info.lastModified.toUTCString();
    if (info.sha256) meta.sha256 = info.sha256;
    return meta;
  }

  async open(
    range: { start: number; end: number } | undefined,
    pin: RemoteMeta,
    signal?: AbortSignal,
  ): Promise<RemoteBody> {
    const result = await this.storage.get(this.key, range ? { range, signal } : { signal });
    const { info } = result;
    let changed: string | undefined;
    if (pin.etag && info.etag && pin.etag !== info.etag) changed = `ETag ${pin.etag} became ${info.etag}`;
    else if (info.size !== pin.size) changed = `size ${pin.size} became ${info.size}`;
    else if (pin.sha256 && info.sha256 && pin.sha256 !== info.sha256) changed = 'sha256 differs';
    if (changed) {
      result.body.destroy();
      throw new ObjectChangedError(this.label, changed);
    }
    if (range && !result.range) {
      result.body.destroy();
      throw new RangeIgnoredError(this.label);
    }
    if (range && result.range && (result.range.start !== range.start || result.range.end !== range.end)) {
      result.body.destroy();
      throw new StowageError('UNAVAILABLE', `${this.label}: the store returned another range than asked`, {
        retryable: true,
      });
    }
    return result.range ? { body: result.body, range: result.range } : { body: result.body };
  }
}
