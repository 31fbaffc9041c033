import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StowageError } from '../core/errors.js';
import type { ListedObject, ObjectInfo, Storage } from '../core/types.js';
import { HOSTILE_KEYS, ODD_LEGAL_KEYS } from './hostile-keys.js';
import {
  closingStream,
  collect,
  expectCode,
  failingStream,
  randomData,
  sha256,
  stallingStream,
  unknownLength,
} from './streams.js';

/** What an adapter's test file hands the suite. */
export interface ConformanceHarness {
  storage: Storage;
  /**
   * Raw entries the backend holds that are not finished objects: temp files,
   * staging keys, unfinished multipart uploads. Must be empty after every
   * failed or aborted write.
   */
  leftovers(): Promise<string[]>;
  /** Stops servers, removes temp dirs. */
  close?(): Promise<void>;
}

export interface ConformanceOptions {
  /** Size of the big-object case; 10 MB+ by default. */
  bigSize?: number;
}

/**
 * The one suite every adapter passes. Each adapter's test file calls this
 * with a factory; differences a backend really has come from
 * `storage.capabilities`, never from skipping.
 */
export function runConformance(
  adapter: string,
  factory: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void {
  describe(`Storage conformance: ${adapter}`, () => {
    let h: ConformanceHarness;
    let s: Storage;
    // Every run writes under its own prefix, so live backends can be shared.
    const base = `conformance-${randomUUID().slice(0, 8)}`;
    const k = (name: string) => `${base}/${name}`;
    const bigSize = options.bigSize ?? 10 * 1024 * 1024 + 12_345;

    beforeAll(async () => {
      h = await factory();
      s = h.storage;
    });
    afterAll(async () => {
      for await (const info of s.list(`${base}/`)) await s.delete(info.key);
      await h.close?.();
    });

    async function roundTrip(
      key: string,
      body: Parameters<Storage['put']>[1],
      expected: Buffer,
    ): Promise<ObjectInfo> {
      const info = await s.put(key, body);
      expect(info.key).toBe(key);
      expect(info.size).toBe(expected.length);
      if (info.sha256 !== undefined) expect(info.sha256).toBe(sha256(expected));
      const { info: got, body: stream } = await s.get(key);
      const data = await collect(stream);
      expect(data.length).toBe(expected.length);
      expect(sha256(data)).toBe(sha256(expected));
      expect(got.size).toBe(expected.length);
      return info;
    }

    describe('bodies', () => {
      it('stores a Buffer', async () => {
        const data = randomData(1000);
        await roundTrip(k('bodies/buffer.bin'), data, data);
      });
      it('stores a Uint8Array that is a view into a larger buffer', async () => {
        const backing = randomData(100);
        const view = new Uint8Array(backing.buffer, backing.byteOffset + 10, 50);
        await roundTrip(k('bodies/view.bin'), view, Buffer.from(view));
      });
      it('stores a string as UTF-8', async () => {
        const text = 'héllo wörld — ünïcode ✓';
        await roundTrip(k('bodies/string.txt'), text, Buffer.from(text, 'utf8'));
      });
      it('stores a Readable stream', async () => {
        const data = randomData(300_000);
        await roundTrip(k('bodies/readable.bin'), Readable.from(unknownLength(data)), data);
      });
      it('stores an async iterable of unknown length', async () => {
        const data = randomData(200_001);
        await roundTrip(k('bodies/iterable.bin'), unknownLength(data, 7_777), data);
      });
      it('stores a web ReadableStream', async () => {
        const data = randomData(5_000);
        const web = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(data));
            controller.close();
          },
        });
        await roundTrip(k('bodies/web.bin'), web as never, data);
      });
      it('stores 0 bytes, from a buffer and from an empty stream', async () => {
        await roundTrip(k('bodies/empty-buffer'), Buffer.alloc(0), Buffer.alloc(0));
        await roundTrip(k('bodies/empty-stream'), Readable.from([]), Buffer.alloc(0));
        expect((await s.head(k('bodies/empty-stream'))).size).toBe(0);
      });
      it('stores 1 byte', async () => {
        await roundTrip(k('bodies/one'), Buffer.from([0xff]), Buffer.from([0xff]));
      });
      it('streams a 10 MB+ object of unknown length and reads it back intact', async () => {
        const data = randomData(bigSize);
        await roundTrip(k('bodies/big.bin'), unknownLength(data), data);
      });
      it('overwrites an existing key with the new content', async () => {
        await s.put(k('bodies/over.txt'), 'first version, longer');
        await roundTrip(k('bodies/over.txt'), 'second', Buffer.from('second'));
      });
      it('rejects a body of the wrong type with INVALID_ARGUMENT', async () => {
        await expectCode(s.put(k('bodies/bad'), 42 as never), 'INVALID_ARGUMENT');
        await expectCode(s.put(k('bodies/bad'), null as never), 'INVALID_ARGUMENT');
        await expectCode(s.put(k('bodies/bad'), { not: 'a body' } as never), 'INVALID_ARGUMENT');
        expect(await s.exists(k('bodies/bad'))).toBe(false);
      });
    });

    describe('range reads', () => {
      const data = randomData(10_000);
      const key = k('range/data.bin');
      beforeAll(async () => {
        await s.put(key, data);
      });

      it('declares range support', () => {
        expect(typeof s.capabilities.rangeReads).toBe('boolean');
      });
      it('reads a closed range', async () => {
        if (!s.capabilities.rangeReads)
          return expectCode(s.get(key, { range: { start: 1, end: 2 } }), 'NOT_SUPPORTED');
        const { body, range, info } = await s.get(key, { range: { start: 100, end: 1099 } });
        expect(Buffer.compare(await collect(body), data.subarray(100, 1100))).toBe(0);
        expect(range).toEqual({ start: 100, end: 1099 });
        expect(info.size).toBe(data.length);
      });
      it('reads an open-ended range', async () => {
        if (!s.capabilities.rangeReads)
          return expectCode(s.get(key, { range: { start: 1 } }), 'NOT_SUPPORTED');
        const { body, range } = await s.get(key, { range: { start: 9_990 } });
        expect(Buffer.compare(await collect(body), data.subarray(9_990))).toBe(0);
        expect(range).toEqual({ start: 9_990, end: 9_999 });
      });
      it('reads a single byte and clamps an end past the size', async () => {
        if (!s.capabilities.rangeReads)
          return expectCode(s.get(key, { range: { start: 0, end: 0 } }), 'NOT_SUPPORTED');
        expect(await collect((await s.get(key, { range: { start: 0, end: 0 } })).body)).toEqual(
          data.subarray(0, 1),
        );
        const tail = await s.get(key, { range: { start: 9_999, end: 50_000 } });
        expect(await collect(tail.body)).toEqual(data.subarray(9_999));
        expect(tail.range).toEqual({ start: 9_999, end: 9_999 });
      });
      it('rejects a range that starts past the end with INVALID_RANGE', async () => {
        if (!s.capabilities.rangeReads)
          return expectCode(s.get(key, { range: { start: 10_000 } }), 'NOT_SUPPORTED');
        await expectCode(s.get(key, { range: { start: 10_000 } }), 'INVALID_RANGE');
        await expectCode(s.get(key, { range: { start: 20_000, end: 30_000 } }), 'INVALID_RANGE');
      });
      it('rejects malformed ranges with a clear error', async () => {
        await expectCode(s.get(key, { range: { start: 10, end: 5 } }), 'INVALID_RANGE');
        await expectCode(s.get(key, { range: { start: -1 } }), 'INVALID_ARGUMENT');
        await expectCode(s.get(key, { range: { start: 1.5 } }), 'INVALID_ARGUMENT');
      });
    });

    describe('head, exists, delete', () => {
      it('heads an object with its size and last-modified date', async () => {
        const key = k('head/a.txt');
        await s.put(key, 'twelve bytes');
        const info = await s.head(key);
        expect(info.key).toBe(key);
        expect(info.size).toBe(12);
        if (info.lastModified) expect(info.lastModified).toBeInstanceOf(Date);
        expect(await s.exists(key)).toBe(true);
      });
      it('answers NOT_FOUND for a missing key on head and get, false on exists', async () => {
        const key = k('head/missing.txt');
        await expectCode(s.head(key), 'NOT_FOUND');
        await expectCode(s.get(key), 'NOT_FOUND');
        expect(await s.exists(key)).toBe(false);
      });
      it('deletes idempotently', async () => {
        const key = k('delete/a.txt');
        await s.put(key, 'bye');
        await s.delete(key);
        expect(await s.exists(key)).toBe(false);
        await s.delete(key);
        await s.delete(k('delete/never-existed.txt'));
        await expectCode(s.head(key), 'NOT_FOUND');
      });
      it('deleting one key leaves its neighbours', async () => {
        await s.put(k('delete/n/1'), '1');
        await s.put(k('delete/n/2'), '2');
        await s.delete(k('delete/n/1'));
        expect(await s.exists(k('delete/n/2'))).toBe(true);
      });
    });

    describe('list', () => {
      const names = [
        'list/a.txt',
        'list/b/1.txt',
        'list/b/2.txt',
        'list/b-c.txt',
        'list/ba.txt',
        'list/c/d/e.txt',
        'list/z',
      ];
      beforeAll(async () => {
        for (const name of names) await s.put(k(name), name);
      });
      const keysOf = async (prefix: string, pageSize?: number, startAfter?: string) => {
        const out: string[] = [];
        const opts = { ...(pageSize ? { pageSize } : {}), ...(startAfter ? { startAfter } : {}) };
        for await (const info of s.list(prefix, opts)) out.push(info.key);
        return out;
      };
      const expected = names.map(k);
      const sortedBytes = (xs: string[]) =>
        [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

      it('lists every key under a prefix across several pages', async () => {
        const listed = await keysOf(`${base}/list/`, 2);
        if (s.capabilities.sortedList) expect(listed).toEqual(sortedBytes(expected));
        else expect(sortedBytes(listed)).toEqual(sortedBytes(expected));
      });
      it('returns sizes with the keys', async () => {
        for await (const info of s.list(`${base}/list/b/`))
          expect(info.size).toBe(info.key.slice(base.length + 1).length);
      });
      it('lists what head() says, or leaves out what capabilities.listDetails says it lacks', async () => {
        const key = k('list-details/doc.bin');
        await s.put(key, 'details', {
          contentType: 'application/x-stowage-test',
          metadata: { owner: 'ada' },
        });
        const head = await s.head(key);
        const listed = [];
        for await (const entry of s.list(k('list-details/'))) listed.push(entry);
        expect(listed.map((e) => e.key)).toEqual([key]);
        const [entry] = listed;
        expect(entry?.size).toBe(head.size);
        if (entry?.etag !== undefined && head.etag !== undefined) expect(entry.etag).toBe(head.etag);
        // Listing dates can carry milliseconds a HEAD's HTTP date drops.
        if (entry?.lastModified !== undefined && head.lastModified !== undefined)
          expect(Math.floor(entry.lastModified.getTime() / 1000)).toBe(
            Math.floor(head.lastModified.getTime() / 1000),
          );
        const details = (e: ListedObject | undefined) => ({
          contentType: e?.contentType,
          metadata: e?.metadata,
          sha256: e?.sha256,
        });
        if (s.capabilities.listDetails) expect(details(entry)).toEqual(details(head));
        // Absent, not guessed: an empty metadata object would claim the object has none.
        else
          expect(details(entry)).toEqual({ contentType: undefined, metadata: undefined, sha256: undefined });
      });
      it('filters by a directory prefix and by a partial name', async () => {
        expect(sortedBytes(await keysOf(`${base}/list/b/`, 1))).toEqual([
          k('list/b/1.txt'),
          k('list/b/2.txt'),
        ]);
        expect(sortedBytes(await keysOf(`${base}/list/b`))).toEqual(
          sortedBytes([k('list/b/1.txt'), k('list/b/2.txt'), k('list/b-c.txt'), k('list/ba.txt')]),
        );
        expect(await keysOf(`${base}/list/nothing-here`)).toEqual([]);
      });
      it('resumes after a key', async () => {
        if (!s.capabilities.sortedList) return;
        const all = sortedBytes(expected);
        expect(await keysOf(`${base}/list/`, 3, all[2])).toEqual(all.slice(3));
      });
      it('rejects a hostile prefix', async () => {
        await expectCode(async () => {
          for await (const _ of s.list('../')) void _;
        }, 'INVALID_KEY');
      });
    });

    describe('copy, content type and metadata', () => {
      it('round-trips content type and user metadata', async () => {
        const key = k('meta/doc.bin');
        await s.put(key, 'content', {
          contentType: 'application/x-stowage-test',
          metadata: { owner: 'ada', 'Mixed-Case': 'v' },
        });
        const info = await s.head(key);
        if (s.capabilities.contentType) expect(info.contentType).toBe('application/x-stowage-test');
        if (s.capabilities.metadata) expect(info.metadata).toEqual({ owner: 'ada', 'mixed-case': 'v' });
        const got = await s.get(key);
        await collect(got.body);
        if (s.capabilities.metadata) expect(got.info.metadata).toEqual(info.metadata);
      });
      it('defaults the content type from the key the same way everywhere', async () => {
        // One rule (src/adapter-kit/content-type.ts): the key's extension, else application/octet-stream.
        // A real 1x1 PNG: stores that check images (Cloudinary) accept it.
        const png = Buffer.from(
          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
          'base64',
        );
        const cases: [name: string, body: Buffer | string, type: string][] = [
          ['a.png', png, 'image/png'],
          ['b.json', '{}', 'application/json'],
          ['noext', 'x', 'application/octet-stream'],
        ];
        for (const [name, body, type] of cases) {
          const key = k(`ctype/${name}`);
          const put = await s.put(key, body);
          const head = await s.head(key);
          const got = await s.get(key);
          await collect(got.body);
          if (!s.capabilities.contentType) continue;
          expect({ name, put: put.contentType, head: head.contentType, get: got.info.contentType }).toEqual({
            name,
            put: type,
            head: type,
            get: type,
          });
        }
      });
      it('keeps an explicit content type over the default', async () => {
        const key = k('ctype/explicit.json');
        await s.put(key, 'x', { contentType: 'text/plain' });
        const head = await s.head(key);
        const got = await s.get(key);
        await collect(got.body);
        if (!s.capabilities.contentType) return;
        expect(head.contentType).toMatch(/^text\/plain/);
        expect(got.info.contentType).toMatch(/^text\/plain/);
      });
      it('rejects metadata that cannot travel in headers', async () => {
        await expectCode(s.put(k('meta/bad'), 'x', { metadata: { 'bad key!': 'v' } }), 'INVALID_ARGUMENT');
        await expectCode(s.put(k('meta/bad'), 'x', { metadata: { ok: 'ünicode' } }), 'INVALID_ARGUMENT');
        await expectCode(s.put(k('meta/bad'), 'x', { metadata: { ok: 1 as never } }), 'INVALID_ARGUMENT');
        await expectCode(s.put(k('meta/bad'), 'x', { contentType: 'not a type' }), 'INVALID_ARGUMENT');
        expect(await s.exists(k('meta/bad'))).toBe(false);
      });
      it('copies content, type and metadata, leaving the source', async () => {
        const from = k('copy/src.txt');
        const to = k('copy/dir/dst.txt');
        await s.put(from, 'copy me', { contentType: 'text/plain', metadata: { tag: 'x' } });
        if (!s.capabilities.copy) return void (await expectCode(s.copy(from, to), 'NOT_SUPPORTED'));
        const info = await s.copy(from, to);
        expect(info.key).toBe(to);
        expect(info.size).toBe(7);
        expect((await collect((await s.get(to)).body)).toString()).toBe('copy me');
        expect((await collect((await s.get(from)).body)).toString()).toBe('copy me');
        const head = await s.head(to);
        if (s.capabilities.contentType) expect(head.contentType).toMatch(/^text\/plain/);
        if (s.capabilities.metadata) expect(head.metadata).toEqual({ tag: 'x' });
      });
      it('copy of a missing key is NOT_FOUND', async () => {
        await expectCode(
          s.copy(k('copy/missing'), k('copy/never')),
          s.capabilities.copy ? 'NOT_FOUND' : 'NOT_SUPPORTED',
        );
        expect(await s.exists(k('copy/never'))).toBe(false);
      });
    });

    describe('keys', () => {
      it.each(HOSTILE_KEYS.map((key) => [JSON.stringify(key)?.slice(0, 40) ?? String(key), key]))(
        'refuses hostile key %s on every operation',
        async (_label, key) => {
          const bad = key as string;
          await expectCode(s.put(bad, 'x'), 'INVALID_KEY');
          await expectCode(s.get(bad), 'INVALID_KEY');
          await expectCode(s.head(bad), 'INVALID_KEY');
          await expectCode(s.exists(bad), 'INVALID_KEY');
          await expectCode(s.delete(bad), 'INVALID_KEY');
          await expectCode(s.copy(bad, k('keys/x')), 'INVALID_KEY');
          await expectCode(s.copy(k('keys/x'), bad), 'INVALID_KEY');
          await expectCode(s.url(bad), 'INVALID_KEY');
        },
      );
      it('round-trips odd but legal keys exactly, and lists them', async () => {
        for (const name of ODD_LEGAL_KEYS) {
          const key = k(`odd/${name}`);
          await s.put(key, name);
          expect((await collect((await s.get(key)).body)).toString()).toBe(name);
          expect((await s.head(key)).key).toBe(key);
        }
        const listed: string[] = [];
        for await (const info of s.list(`${base}/odd/`)) listed.push(info.key);
        expect(listed.sort()).toEqual(ODD_LEGAL_KEYS.map((n) => k(`odd/${n}`)).sort());
      });
      it('normalises keys to NFC', async () => {
        const decomposed = k('nfc/cafe\u0301.txt');
        const composed = k('nfc/caf\u00e9.txt');
        const info = await s.put(decomposed, 'nfc');
        expect(info.key).toBe(composed);
        expect((await collect((await s.get(composed)).body)).toString()).toBe('nfc');
      });
      it('error messages do not echo a 10 KB key', async () => {
        const err = await expectCode(s.put('k'.repeat(10_000), 'x'), 'INVALID_KEY');
        expect(err.message.length).toBeLessThan(400);
      });
    });

    describe('failed writes lose nothing', () => {
      it('a body stream that errors midway leaves the previous object and no leftovers', async () => {
        const key = k('fail/stream.txt');
        await s.put(key, 'previous');
        const err = await s.put(key, failingStream(300_000)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StowageError);
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await h.leftovers()).toEqual([]);
      });
      it('a failed write to a new key leaves no object', async () => {
        const key = k('fail/new.txt');
        await expect(s.put(key, failingStream(100_000))).rejects.toBeInstanceOf(StowageError);
        expect(await s.exists(key)).toBe(false);
        expect(await h.leftovers()).toEqual([]);
      });
      it('an AbortSignal fired mid-write aborts it and keeps the previous object', async () => {
        const key = k('fail/abort.txt');
        await s.put(key, 'previous');
        const controller = new AbortController();
        const pending = s.put(key, stallingStream(200_000), { signal: controller.signal });
        setTimeout(() => controller.abort(), 100);
        await expectCode(pending, 'ABORTED');
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await h.leftovers()).toEqual([]);
      });
      it('an already-aborted signal stores nothing', async () => {
        const key = k('fail/pre-aborted.txt');
        await expectCode(s.put(key, 'x', { signal: AbortSignal.abort() }), 'ABORTED');
        expect(await s.exists(key)).toBe(false);
      });
      it('a checksum mismatch stores nothing and keeps the previous object', async () => {
        const key = k('fail/checksum.txt');
        await s.put(key, 'previous');
        await expectCode(s.put(key, 'tampered', { sha256: sha256('original') }), 'CHECKSUM_MISMATCH');
        await expectCode(s.put(key, 'short', { size: 99 }), 'CHECKSUM_MISMATCH');
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await h.leftovers()).toEqual([]);
      });
      it('a matching checksum is accepted', async () => {
        const info = await s.put(k('fail/ok.txt'), 'original', { sha256: sha256('original'), size: 8 });
        expect(info.size).toBe(8);
      });
      it('going over maxSize mid-stream is TOO_LARGE and keeps the previous object', async () => {
        const key = k('fail/too-large.bin');
        await s.put(key, 'previous');
        await expectCode(s.put(key, unknownLength(randomData(500_000)), { maxSize: 100_000 }), 'TOO_LARGE');
        await expectCode(s.put(key, randomData(2_000), { maxSize: 1_000 }), 'TOO_LARGE');
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await h.leftovers()).toEqual([]);
      });
      /** Each body fails the put() as the body's own failure; the key keeps its previous object. */
      const expectBodyFailures = async (key: string, bodies: (() => Readable)[]) => {
        await s.put(key, 'previous');
        const errors: StowageError[] = [];
        for (const body of bodies) {
          const err = await expectCode(s.put(key, body()), 'ABORTED');
          expect(err.key).toBe(key);
          expect(err.message).toContain('the body stream failed');
          errors.push(err);
        }
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await h.leftovers()).toEqual([]);
        return errors;
      };
      it('a body stream that fails, even with a network-style error code, is ABORTED naming the key', async () => {
        // What a dropped browser upload looks like: the request stream fails with ECONNRESET.
        // One rule (src/adapter-kit/write.ts): an error the body raised is the body's failure,
        // never mistaken for the store's or the disk's.
        const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        const errors = await expectBodyFailures(
          k('fail/reset.bin'),
          [1_000, 300_000].map((bytes) => () => failingStream(bytes, 65_536, reset)),
        );
        for (const err of errors) expect((err.cause as Error).message).toBe('read ECONNRESET');
      });
      it('a body stream closed before its end (destroyed without an error) is ABORTED, not a short object', async () => {
        await expectBodyFailures(
          k('fail/closed.bin'),
          [1_000, 300_000].map((bytes) => () => closingStream(bytes)),
        );
      });
      it('maxSize is TOO_LARGE naming the key, whether the size is known up front or found while streaming', async () => {
        const key = k('fail/limit.bin');
        let pulled = false;
        const known = await expectCode(s.put(key, randomData(2_000), { maxSize: 1_999 }), 'TOO_LARGE');
        const streamed = await expectCode(
          s.put(key, unknownLength(randomData(300_000)), { maxSize: 200_000 }),
          'TOO_LARGE',
        );
        // A known size over the limit is refused before the body is read at all.
        const iterable = (async function* () {
          pulled = true;
          yield Buffer.alloc(10);
        })();
        await expectCode(s.put(key, iterable, { size: 10, maxSize: 5 }), 'TOO_LARGE');
        expect(pulled).toBe(false);
        for (const [err, limit] of [
          [known, '1999'],
          [streamed, '200000'],
        ] as const) {
          expect(err.key).toBe(key);
          expect(err.status).toBe(413);
          expect(err.message).toContain(limit);
        }
        await s.put(key, randomData(1_000), { maxSize: 1_000 });
        expect((await s.head(key)).size).toBe(1_000);
        expect(await h.leftovers()).toEqual([]);
      });
      it('a checksum or size mismatch names the key', async () => {
        const key = k('fail/mismatch.txt');
        for (const opts of [{ sha256: sha256('original') }, { size: 99 }, { size: 2 }]) {
          const err = await expectCode(
            s.put(key, unknownLength(Buffer.from('tampered'), 3), opts),
            'CHECKSUM_MISMATCH',
          );
          expect(err.key).toBe(key);
        }
        expect(await s.exists(key)).toBe(false);
        expect(await h.leftovers()).toEqual([]);
      });
      it('concurrent writes to one key end with one whole object from one writer', async () => {
        const key = k('fail/concurrent.bin');
        const size = 400_000;
        const writers = [0x31, 0x32, 0x33, 0x34, 0x35].map((byte) =>
          s.put(key, unknownLength(Buffer.alloc(size, byte), 16_384)),
        );
        await Promise.all(writers);
        const { body, info } = await s.get(key);
        const data = await collect(body);
        expect(data.length).toBe(size);
        expect(new Set(data).size).toBe(1);
        if (info.sha256 !== undefined) expect(info.sha256).toBe(sha256(data));
        const head = await s.head(key);
        if (head.sha256 !== undefined) expect(head.sha256).toBe(sha256(data));
        expect(await h.leftovers()).toEqual([]);
      });
    });

    describe('two-phase writes (beforeCommit)', () => {
      /** A put held at its commit gate until release() or refuse(). */
      const held = (key: string, body: Buffer) => {
        let release!: () => void;
        let refuse!: (err: unknown) => void;
        let reached!: (staged: { size: number; sha256: string }) => void;
        const atGate = new Promise<{ size: number; sha256: string }>((r) => (reached = r));
        const gate = new Promise<void>((resolve, reject) => {
          release = resolve;
          refuse = reject;
        });
        const write = s.put(key, unknownLength(body, 65_536), {
          beforeCommit: (staged) => {
            reached(staged);
            return gate;
          },
        });
        write.catch(() => undefined);
        return { write, atGate, release, refuse };
      };

      it('holds the bytes out of sight until beforeCommit resolves, then publishes them', async () => {
        if (!s.capabilities.beforeCommit) {
          const err = await expectCode(
            s.put(k('gate/x'), 'x', { beforeCommit: async () => {} }),
            'NOT_SUPPORTED',
          );
          expect(err.message).toContain('beforeCommit');
          expect(await s.exists(k('gate/x'))).toBe(false);
          return;
        }
        const key = k('gate/held.bin');
        await s.put(key, 'previous');
        const data = randomData(bigSize);
        const put = held(key, data);
        expect(await put.atGate).toEqual({ size: data.length, sha256: sha256(data) });
        // Waiting at the gate: the key still holds the previous object.
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        put.release();
        const info = await put.write;
        expect(info.size).toBe(data.length);
        expect(sha256(await collect((await s.get(key)).body))).toBe(sha256(data));
        expect(await h.leftovers()).toEqual([]);
      });
      it('a refusal at the gate publishes nothing, keeps the previous object and leaves nothing behind', async () => {
        if (!s.capabilities.beforeCommit) return expect(s.capabilities.beforeCommit).toBe(false);
        const key = k('gate/refused.bin');
        await s.put(key, 'previous');
        const big = held(key, randomData(bigSize));
        await big.atGate;
        big.refuse(new StowageError('TOO_LARGE', 'another file in the request was too large'));
        await expectCode(big.write, 'TOO_LARGE');
        const small = held(k('gate/new.bin'), randomData(1000));
        await small.atGate;
        small.refuse(new Error('not today'));
        const err = await expectCode(small.write, 'ABORTED');
        expect((err.cause as Error).message).toBe('not today');
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await s.exists(k('gate/new.bin'))).toBe(false);
        expect(await h.leftovers()).toEqual([]);
      });
      it("the caller's signal ends the wait at a gate that never answers, publishing nothing", async () => {
        if (!s.capabilities.beforeCommit) return expect(s.capabilities.beforeCommit).toBe(false);
        const key = k('gate/abandoned.bin');
        await s.put(key, 'previous');
        const controller = new AbortController();
        let reached!: () => void;
        const atGate = new Promise<void>((r) => (reached = r));
        const write = s.put(key, unknownLength(randomData(bigSize), 65_536), {
          signal: controller.signal,
          beforeCommit: () => {
            reached();
            return new Promise<void>(() => undefined);
          },
        });
        await atGate;
        controller.abort();
        await expectCode(write, 'ABORTED');
        expect((await collect((await s.get(key)).body)).toString()).toBe('previous');
        expect(await h.leftovers()).toEqual([]);
      });
      it('a body that fails verification never reaches the gate', async () => {
        if (!s.capabilities.beforeCommit) return expect(s.capabilities.beforeCommit).toBe(false);
        let called = false;
        const gate = async () => {
          called = true;
        };
        await expectCode(
          s.put(k('gate/bad.txt'), 'tampered', { sha256: sha256('original'), beforeCommit: gate }),
          'CHECKSUM_MISMATCH',
        );
        expect(called).toBe(false);
        expect(await h.leftovers()).toEqual([]);
      });
    });

    describe('arguments', () => {
      it('rejects bad options with INVALID_ARGUMENT naming the option', async () => {
        const err = await expectCode(s.put(k('args/x'), 'x', { size: -1 }), 'INVALID_ARGUMENT');
        expect(err.message).toContain('size');
        await expectCode(s.put(k('args/x'), 'x', { sha256: 'abc' }), 'INVALID_ARGUMENT');
        await expectCode(s.url(k('args/x'), { expiresIn: -5 }), 'INVALID_ARGUMENT');
      });
      it('rejects bad list options with INVALID_ARGUMENT naming the option', async () => {
        const listing = (opts: unknown) => async () => {
          for await (const _ of s.list(`${base}/`, opts as never)) void _;
        };
        for (const pageSize of [0, -1, 1.5, '10', Number.NaN]) {
          const err = await expectCode(listing({ pageSize }), 'INVALID_ARGUMENT');
          expect(err.message).toContain('pageSize');
        }
        const err = await expectCode(listing({ startAfter: 5 }), 'INVALID_ARGUMENT');
        expect(err.message).toContain('startAfter');
        await expectCode(listing(null), 'INVALID_ARGUMENT');
        await expectCode(listing({ signal: 'x' }), 'INVALID_ARGUMENT');
        // A valid page size of 1 still lists.
        for await (const info of s.list(`${base}/list/b/`, { pageSize: 1 }))
          expect(info.key).toContain('/list/b/');
      });
      it('rejects bad presignUpload options with INVALID_ARGUMENT naming the option, or says NOT_SUPPORTED', async () => {
        const key = k('presign/a.png');
        // No method is the signal of no browser uploads (Capabilities has no flag for it).
        if (!s.presignUpload) return expect('presignUpload' in s.capabilities).toBe(false);
        const presign = (opts: unknown) => s.presignUpload!(key, opts as never);
        const cases: [opts: unknown, names: string][] = [
          [undefined, 'maxSize'],
          [null, 'options'],
          [{}, 'maxSize'],
          [{ maxSize: -1 }, 'maxSize'],
          [{ maxSize: 1.5 }, 'maxSize'],
          [{ maxSize: '10' }, 'maxSize'],
          [{ maxSize: 10, expiresIn: 0 }, 'expiresIn'],
          [{ maxSize: 10, expiresIn: 'soon' }, 'expiresIn'],
          [{ maxSize: 10, contentType: 'png' }, 'contentType'],
          [{ maxSize: 10, contentType: 'image/png; charset=x' }, 'contentType'],
          [{ maxSize: 10, contentType: 7 }, 'contentType'],
          [{ maxSize: 10, metadata: { 'bad key!': 'v' } }, 'metadata'],
        ];
        for (const [opts, name] of cases) {
          const err = await expectCode(presign(opts), 'INVALID_ARGUMENT');
          expect({ opts, message: err.message }).toEqual({ opts, message: expect.stringContaining(name) });
        }
        for (const ok of [
          { maxSize: 10 },
          { maxSize: 10, contentType: 'image/png', expiresIn: 60 },
          { maxSize: 10, contentType: 'image/' },
        ]) {
          expect((await presign(ok)).key).toBe(key);
        }
      });
      it('url() returns a string or says NOT_SUPPORTED, never something else', async () => {
        await s.put(k('url/a b.txt'), 'u');
        try {
          expect(typeof (await s.url(k('url/a b.txt')))).toBe('string');
        } catch (err) {
          expect((err as StowageError).code).toBe('NOT_SUPPORTED');
        }
      });
    });
  });
}
