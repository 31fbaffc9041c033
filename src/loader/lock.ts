import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { StowageError } from '../core/errors.js';
import { isProcessAlive } from '../util/process-alive.js';
import { sleep } from './retry.js';

export interface LockOptions {
  /** A lock whose heartbeat is older than this (ms) is taken over. */
  staleMs: number;
  /** Waiters give up after this many ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called between polls; returning true ends the wait without the lock (the work is done). */
  done?: () => Promise<boolean>;
  /** Printed in the timeout error. */
  label: string;
}

interface LockBody {
  pid: number;
  host: string;
  nonce: string;
  since: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * A cross-process lock file holding PID, host and a nonce, whose mtime is
 * a heartbeat. A lock is stale when its heartbeat is older than staleMs or
 * its process (same host) is gone; a stale lock is renamed away and taken.
 * It saves duplicate work only: correctness comes from temp + rename + verify.
 * Resolves undefined when `done()` reported the work finished meanwhile.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  const body: LockBody = { pid: process.pid, host: hostname(), nonce: randomUUID(), since: Date.now() };
  let holder: LockBody | undefined;
  for (let poll = 0; ; poll++) {
    if (await tryCreate(path, body)) return hold(path, body, options.staleMs);
    holder = await readLock(path);
    if (await isStale(path, holder, options.staleMs)) {
      await breakLock(path, holder);
      continue;
    }
    if (options.done && (await options.done())) return undefined;
    if (Date.now() > deadline) {
      throw new StowageError(
        'UNAVAILABLE',
        `${options.label}: waited ${Math.round(options.timeoutMs / 1000)} s for process ${holder?.pid ?? '?'} on ${holder?.host ?? '?'} to finish loading it; if no process is loading it, delete ${path}`,
        { retryable: true },
      );
    }
    await sleep(Math.min(1_000, 50 + poll * 25 + Math.random() * 50), options.signal);
  }
}

async function tryCreate(path: string, body: LockBody): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(JSON.stringify(body));
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function hold(path: string, body: LockBody, staleMs: number): HeldLock {
  const beat = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    },
    Math.max(50, Math.floor(staleMs / 4)),
  );
  beat.unref();
  return {
    async release() {
      clearInterval(beat);
      const current = await readLock(path);
      // Only remove our own lock: a waiter may have taken over a lock it judged stale.
      if (current?.nonce === body.nonce) await unlink(path).catch(() => undefined);
    },
  };
}

async function readLock(path: string): Promise<LockBody | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockBody;
  } catch {
    return undefined;
  }
}

async function isStale(path: string, holder: LockBody | undefined, staleMs: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return false; // gone: the next tryCreate wins or loses fairly
  if (Date.now() - st.mtimeMs > staleMs) return true;
  if (!holder) return Date.now() - st.mtimeMs > 2_000; // unreadable for long: a crash mid-write
  return holder.host === hostname() && !isProcessAlive(holder.pid);
}

/** Renames the stale lock aside first, so two waiters cannot both delete a fresh one. */
async function breakLock(path: string, seen: LockBody | undefined): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else broke it
  }
  const moved = await readLock(aside);
  if (seen && moved && moved.nonce !== seen.nonce) {
    // We moved a lock taken after our check: put it back unless a new one exists.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
