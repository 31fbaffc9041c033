import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import { collect, expectCode, sha256 } from '../helpers/streams.js';
import type { CloudinaryEmulatorHandle } from '../servers/cloudinary-emulator/index.js';
import { emulatorWithStorage } from './harness.js';

const MB = 1024 * 1024;
const CHUNK = 8 * MB;

/** 50 MB of deterministic pseudo-random bytes, generated as it streams (never all in memory). */
function generated(total: number): { stream: Readable; digest: Promise<string> } {
  const hash = createHash('sha256');
  let sent = 0;
  let state = 0x12345678;
  let resolveDigest!: (hex: string) => void;
  const digest = new Promise<string>((r) => {
    resolveDigest = r;
  });
  const stream = new Readable({
    read() {
      if (sent >= total) {
        resolveDigest(hash.digest('hex'));
        this.push(null);
        return;
      }
      const n = Math.min(1 * MB + 7, total - sent);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        chunk.writeUInt32LE(state, i - (i + 4 > n ? i + 4 - n : 0));
      }
      hash.update(chunk);
      sent += n;
      this.push(chunk);
    },
  });
  return { stream, digest };
}

describe('cloudinary chunked upload', () => {
  let emu: CloudinaryEmulatorHandle;
  let storage: CloudinaryStorage;
  beforeAll(async () => {
    ({ emu, storage } = await emulatorWithStorage({ chunkSize: CHUNK, chunkThreshold: CHUNK }));
  });
  afterAll(() => emu.stop());

  it('streams 50 MB of unknown length through a chunked upload, reassembled byte-exact', async () => {
    const size = 50 * MB;
    const { stream, digest } = generated(size);
    const before = emu.emulator.requests.length;
    const info = await storage.put('big/fifty.bin', stream);
    const expected = await digest;
    expect(info.size).toBe(size);
    expect(info.sha256).toBe(expected);
    const uploads = emu.emulator.requests.slice(before).filter((r) => r.path.endsWith('/raw/upload'));
    expect(uploads.length).toBe(Math.ceil(size / CHUNK));
    expect(uploads.length).toBeGreaterThanOrEqual(3);
    expect(emu.emulator.store.chunks.size).toBe(0);
    const head = await storage.head('big/fifty.bin');
    expect(head.size).toBe(size);
    expect(head.sha256).toBe(expected);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of (await storage.get('big/fifty.bin')).body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    expect(bytes).toBe(size);
    expect(hash.digest('hex')).toBe(expected);
  });

  it('a chunked write failing its checksum never sends the last chunk and keeps the previous object', async () => {
    await storage.put('big/kept.bin', 'previous');
    const data = Buffer.alloc(3 * CHUNK + 5, 7);
    const sessions = emu.emulator.store.chunks.size;
    await expectCode(
      storage.put('big/kept.bin', Readable.from([data]), { sha256: sha256('other') }),
      'CHECKSUM_MISMATCH',
    );
    // Cloudinary holds (and later expires) the unfinished upload; nothing reached the public_id.
    expect(emu.emulator.store.chunks.size).toBe(sessions + 1);
    expect((await collect((await storage.get('big/kept.bin')).body)).toString()).toBe('previous');
  });

  it('an abort during a chunked upload cuts it and keeps the previous object', async () => {
    await storage.put('big/aborted.bin', 'previous');
    const controller = new AbortController();
    let pushed = 0;
    const body = new Readable({
      read() {
        // Two full chunks, then the caller gives up while the body stalls.
        if (pushed < 2 * CHUNK + 1) {
          const n = Math.min(MB, 2 * CHUNK + 1 - pushed);
          pushed += n;
          this.push(Buffer.alloc(n, 3));
        } else setImmediate(() => controller.abort());
      },
    });
    await expectCode(storage.put('big/aborted.bin', body, { signal: controller.signal }), 'ABORTED');
    expect((await collect((await storage.get('big/aborted.bin')).body)).toString()).toBe('previous');
  });

  it('an exact multiple of the chunk size ends with an empty last chunk and still reassembles', async () => {
    const data = Buffer.alloc(2 * CHUNK, 9);
    data[CHUNK] = 1;
    const info = await storage.put(
      'big/even.bin',
      Readable.from([data.subarray(0, CHUNK), data.subarray(CHUNK)]),
    );
    expect(info.size).toBe(2 * CHUNK);
    expect(sha256(await collect((await storage.get('big/even.bin')).body))).toBe(sha256(data));
  });
});
