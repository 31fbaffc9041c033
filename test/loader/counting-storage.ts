import { LocalStorage } from '../../adapters/local/index.js';
import type { GetOptions, GetResult, ObjectInfo } from '../../src/core/types.js';

/** A LocalStorage that counts reads and can hold them until released (a slow store). */
export class CountingStorage extends LocalStorage {
  gets = 0;
  heads = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  private holding: 'all' | 'gets' = 'all';

  /** Holds reads until release(): every read, or only get() (a probe still answers). */
  hold(what: 'all' | 'gets' = 'all'): void {
    this.holding = what;
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override async get(key: string, opts?: GetOptions): Promise<GetResult> {
    this.gets++;
    await this.gate;
    return super.get(key, opts);
  }

  override async head(key: string): Promise<ObjectInfo> {
    this.heads++;
    if (this.holding === 'all') await this.gate;
    return super.head(key);
  }
}
