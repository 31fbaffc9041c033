import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import { collect, expectCode } from '../helpers/streams.js';
import type { CloudinaryEmulatorHandle } from '../servers/cloudinary-emulator/index.js';
import { configOf, emulatorWithStorage } from './harness.js';

describe('cloudinary rate limits and errors', () => {
  let emu: CloudinaryEmulatorHandle;
  let storage: CloudinaryStorage;
  beforeAll(async () => {
    ({ emu, storage } = await emulatorWithStorage({ maxRetries: 2 }));
    await storage.put('rl/a.txt', 'rate limited');
  });
  afterAll(() => emu.stop());

  const callsSince = (from: number) => emu.emulator.requests.slice(from);

  it('retries a 420 on head, honouring Retry-After, and succeeds', async () => {
    const from = emu.emulator.requests.length;
    emu.failNext(2, 420, 0);
    expect((await storage.head('rl/a.txt')).size).toBe(12);
    expect(callsSince(from).map((r) => r.status)).toEqual([420, 420, 200]);
  });

  it('retries a 429 on a single-request upload, which is resent whole', async () => {
    const from = emu.emulator.requests.length;
    emu.failNext(1, 429, 1);
    await storage.put('rl/b.txt', 'second try');
    expect(
      callsSince(from)
        .filter((r) => r.path.endsWith('/upload'))
        .map((r) => r.status),
    ).toEqual([429, 200]);
    expect((await collect((await storage.get('rl/b.txt')).body)).toString()).toBe('second try');
  });

  it('gives up after maxRetries with UNAVAILABLE, retryable, carrying Retry-After', async () => {
    const once = new CloudinaryStorage({ ...configOf(emu), maxRetries: 0 });
    emu.failNext(1, 420, 7);
    const err = await expectCode(once.head('rl/a.txt'), 'UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.retryAfter).toBe(7);
    expect(err.status).toBe(503);
    emu.failNext(0, 200);
  });

  it('a rate-limited list page is retried too', async () => {
    emu.failNext(1, 420, 0);
    const keys: string[] = [];
    for await (const info of storage.list('rl/')) keys.push(info.key);
    expect(keys.sort()).toEqual(['rl/a.txt', 'rl/b.txt']);
  });

  it('maps a 500 to UNAVAILABLE after retries and a 404 to NOT_FOUND', async () => {
    const once = new CloudinaryStorage({ ...configOf(emu), maxRetries: 0 });
    emu.failNext(1, 500);
    await expectCode(once.head('rl/a.txt'), 'UNAVAILABLE');
    await expectCode(storage.head('rl/missing.txt'), 'NOT_FOUND');
  });
});

describe('cloudinary with a wrong secret', () => {
  let emu: CloudinaryEmulatorHandle;
  const wrongSecret = 'WrongSecret-7f3a9c2e1d';
  beforeAll(async () => {
    ({ emu } = await emulatorWithStorage());
  });
  afterAll(() => emu.stop());

  it('surfaces ACCESS_DENIED on every call, with no secret in message, stack, JSON or cause', async () => {
    const storage = new CloudinaryStorage({ ...configOf(emu), apiSecret: wrongSecret });
    const errors = [
      await expectCode(storage.head('a.txt'), 'ACCESS_DENIED'),
      await expectCode(storage.put('a.txt', 'x'), 'ACCESS_DENIED'),
      await expectCode(storage.delete('a.txt'), 'ACCESS_DENIED'),
      await expectCode(async () => {
        for await (const _ of storage.list('')) void _;
      }, 'ACCESS_DENIED'),
    ];
    for (const err of errors) {
      expect(err.retryable).toBe(false);
      const cause = err.cause as Error | undefined;
      const text = [
        err.message,
        err.stack,
        JSON.stringify(err),
        cause?.message,
        cause?.stack,
        String(cause),
      ].join('\n');
      expect(text).not.toContain(wrongSecret);
      expect(text).not.toContain(emu.apiSecret);
      expect(text).not.toContain(encodeURIComponent(wrongSecret));
    }
  });
});
