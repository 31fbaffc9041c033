import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import type { GetOptions, GetResult } from '../../src/core/types.js';
import { expectCode } from '../helpers/streams.js';
import { EXPRESS_VERSIONS, FELL_THROUGH, rawRequest, type Served, serveApp } from './serve/harness.js';

const [, makeExpress] = EXPRESS_VERSIONS[0];
const STAGED = '.staging/0b9f6c1e-3a52-4d3e-9a8e-1f2d3c4b5a69';

/** Like a backend without ranged reads: whatever range is asked, the whole object comes back. */
class WholeObjectStorage extends MemoryStorage {
  override readonly capabilities = { ...new MemoryStorage().capabilities, rangeReads: false };
  override async get(key: string, _opts?: GetOptions): Promise<GetResult> {
    return super.get(key);
  }
}

describe('serve() guards', () => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('never serves files still under the staging prefix, whatever serves the rest', async () => {
    const storage = new MemoryStorage();
    await storage.put(STAGED, '<html>not checked yet</html>', { contentType: 'text/html' });
    await storage.put('public/a.txt', 'hello');
    served = await serveApp(makeExpress, storage);
    expect((await rawRequest(served.base, `/files/${STAGED}`)).status).toBe(404);
    expect((await rawRequest(served.base, '/files/.staging')).status).toBe(404);
    expect((await rawRequest(served.base, '/files/public/a.txt')).body.toString()).toBe('hello');
    await served.close();
    served = await serveApp(makeExpress, storage, { fallthrough: true });
    expect((await rawRequest(served.base, `/files/${STAGED}`)).status).toBe(FELL_THROUGH);
    await served.close();
    served = await serveApp(makeExpress, storage, { hiddenPrefixes: ['public/'] });
    expect((await rawRequest(served.base, '/files/public/a.txt')).status).toBe(404);
    expect((await rawRequest(served.base, `/files/${STAGED}`)).status).toBe(200);
  });

  it('rejects hiddenPrefixes that are not a list of key prefixes', async () => {
    const storage = new MemoryStorage();
    for (const hiddenPrefixes of ['.staging', [''], ['/abs'], [3]]) {
      await expectCode(
        Promise.resolve().then(() => serveApp(makeExpress, storage, { hiddenPrefixes } as never)),
        'INVALID_ARGUMENT',
      );
    }
  });

  it('answers a range with the right bytes when the backend sends the whole object', async () => {
    const storage = new WholeObjectStorage();
    await storage.put('digits.txt', '0123456789');
    served = await serveApp(makeExpress, storage, { memory: false, disk: false });
    const res = await rawRequest(served.base, '/files/digits.txt', { headers: { range: 'bytes=5-6' } });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 5-6/10');
    expect(res.body.toString()).toBe('56');
    const tail = await rawRequest(served.base, '/files/digits.txt', { headers: { range: 'bytes=-3' } });
    expect(tail.body.toString()).toBe('789');
  });
});
