import { spawnSync } from 'node:child_process';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/loader/lock.js';
import { expectCode } from '../helpers/streams.js';
import { removeDir, tempDir } from './fixtures.js';

let dir: string;
let lockPath: string;

beforeEach(async () => {
  dir = await tempDir('stowage-lock-');
  lockPath = join(dir, 'blob.lock');
});

afterEach(async () => {
  await removeDir(dir);
});

/** A PID that existed and has exited (so no process has it, barring reuse). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid as number;
}

const options = { staleMs: 5_000, timeoutMs: 2_000, label: 'models/x.onnx' };

describe('the cross-process lock', () => {
  it('is exclusive, records PID and host, and is removed on release', async () => {
    const held = await acquireLock(lockPath, options);
    const body = JSON.parse(await readFile(lockPath, 'utf8'));
    expect(body).toMatchObject({ pid: process.pid, host: hostname() });
    await expectCode(acquireLock(lockPath, { ...options, timeoutMs: 200 }), 'UNAVAILABLE');
    await held?.release();
    await expect(stat(lockPath)).rejects.toThrow();
  });

  it('a waiter past its deadline gets UNAVAILABLE naming the holder and the lock file', async () => {
    const held = await acquireLock(lockPath, options);
    const err = await expectCode(acquireLock(lockPath, { ...options, timeoutMs: 150 }), 'UNAVAILABLE');
    expect(err.message).toContain(`process ${process.pid}`);
    expect(err.message).toContain(lockPath);
    await held?.release();
  });

  it('takes over the lock of a dead process at once', async () => {
    await writeFile(lockPath, JSON.stringify({ pid: deadPid(), host: hostname(), nonce: 'old', since: 0 }));
    const held = await acquireLock(lockPath, options);
    expect(JSON.parse(await readFile(lockPath, 'utf8')).pid).toBe(process.pid);
    await held?.release();
  });

  it('takes over a lock whose heartbeat is older than staleMs (holder on another host)', async () => {
    await writeFile(lockPath, JSON.stringify({ pid: 1, host: 'another-dyno', nonce: 'old', since: 0 }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    const held = await acquireLock(lockPath, options);
    expect(JSON.parse(await readFile(lockPath, 'utf8')).nonce).not.toBe('old');
    await held?.release();
  });

  it('keeps a live lock fresh with a heartbeat, so waiters do not steal it', async () => {
    const held = await acquireLock(lockPath, { ...options, staleMs: 400 });
    const first = (await stat(lockPath)).mtimeMs;
    await new Promise((r) => setTimeout(r, 350));
    expect((await stat(lockPath)).mtimeMs).toBeGreaterThan(first);
    await expectCode(acquireLock(lockPath, { ...options, staleMs: 400, timeoutMs: 500 }), 'UNAVAILABLE');
    await held?.release();
  });

  it('a waiter returns without the lock once done() reports the work finished', async () => {
    const held = await acquireLock(lockPath, options);
    let polls = 0;
    const result = await acquireLock(lockPath, { ...options, done: async () => ++polls >= 3 });
    expect(result).toBeUndefined();
    await held?.release();
  });
});
