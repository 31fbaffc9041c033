import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/loader/index.js';
import { setLogger } from '../../src/util/log.js';
import { buildForChildren } from '../loader/build-child.js';
import { type FaultProxy, startFaultProxy } from '../servers/fault-proxy.js';
import { type RangeServer, startHttpRangeServer } from '../servers/http-range-server.js';
import { sha256 } from './files.js';
import { report, rng, scaled, TRIAL_TIMEOUT } from './scale.js';

const SIZE = 1024 * 1024 + 77;
const PART = 64 * 1024;
const KILLS = scaled(50, 3);

let root: string;
let server: RangeServer;
let proxy: FaultProxy;
let childScript: string;
let buildDir: string;
const data = randomBytes(SIZE);
const digest = sha256(data);

beforeAll(async () => {
  setLogger({ info: () => undefined, warn: () => undefined });
  root = await mkdtemp(join(tmpdir(), 'stowage-chaos-kill-'));
  await mkdir(join(root, 'files'));
  await writeFile(join(root, 'files', 'model.bin'), data);
  server = await startHttpRangeServer(join(root, 'files'));
  // A slow link, so a kill lands mid-download.
  proxy = await startFaultProxy(server.url, { chunkDelayMs: 20 });
  ({ script: childScript, dir: buildDir } = await buildForChildren());
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
  setLogger({ info: (m) => console.log(m), warn: (m) => console.warn(m) });
  await rm(root, { recursive: true, force: true });
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

function startChild(cacheDir: string): ChildProcess {
  const args = {
    source: `${proxy.url}/model.bin`,
    options: { cacheDir, sha256: digest, partSize: PART, concurrency: 2 },
  };
  return spawn(process.execPath, [childScript, JSON.stringify(args)], { stdio: 'ignore' });
}

async function until(check: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('chaos: kill -9 during a download, then restart', () => {
  it(
    `${KILLS} kills mid-download: every restart completes with the verified file and leaves nothing behind`,
    async () => {
      const r = rng();
      const failures: string[] = [];
      let leftovers = 0;
      const leftNames: string[] = [];
      let youngTemps = 0;
      let midDownload = 0;
      for (let i = 0; i < KILLS; i++) {
        const cacheDir = await mkdtemp(join(root, 'cache-'));
        // Odd trials: one response stalls at a random byte, so the kill surely lands mid-file.
        // Even trials: a slow link and a kill at a random moment (it may land before or after the end).
        const stallAt = i % 2 === 1 ? 2 + r.int(12) : undefined;
        proxy.rules = {
          chunkDelayMs: 20,
          ...(stallAt
            ? { fault: (n: number) => (n === stallAt ? { stallAfter: r.int(PART) } : undefined) }
            : {}),
        };
        const child = startChild(cacheDir);
        const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
        const partial = join(cacheDir, 'tmp', `${digest}.part`);
        // Wait until the download has started, then kill at a random moment within it.
        const started = await until(
          () =>
            stat(partial).then(
              () => true,
              () => false,
            ),
          20_000,
        );
        await new Promise((res) => setTimeout(res, r.int(150)));
        const blob = join(cacheDir, 'blobs', 'sha256', digest.slice(0, 2), digest);
        const finishedBeforeKill = await stat(blob).then(
          () => true,
          () => false,
        );
        child.kill('SIGKILL');
        await exited;
        proxy.rules = { chunkDelayMs: 20 };
        if (started && !finishedBeforeKill) midDownload++;
        try {
          const path = await loadModel(`${proxy.url}/model.bin`, {
            cacheDir,
            sha256: digest,
            partSize: PART,
            concurrency: 4,
            progressInterval: 0,
          });
          if (!(await readFile(path)).equals(data)) failures.push(`kill ${i}: restart returned wrong bytes`);
        } catch (err) {
          failures.push(`kill ${i}: restart failed: ${String(err)}`);
        }
        let tmp = await readdir(join(cacheDir, 'tmp')).catch(() => []);
        if (tmp.length > 0 && tmp.every((f) => f.includes('.stowage-tmp-'))) {
          // A kill during the part record's atomic write orphans its temp file. The restart
          // keeps it (it is younger than staleLockMs, so it could belong to a live writer);
          // the next boot after that age removes it. Age it, boot once more, and check.
          youngTemps++;
          const old = new Date(Date.now() - 60_000);
          for (const f of tmp) await utimes(join(cacheDir, 'tmp', f), old, old);
          const next = startChild(cacheDir);
          await new Promise<void>((resolve) => next.on('exit', () => resolve()));
          tmp = await readdir(join(cacheDir, 'tmp')).catch(() => []);
        }
        const locks = await readdir(join(cacheDir, 'locks')).catch(() => []);
        leftovers += tmp.length + locks.length;
        for (const f of [...tmp.map((x) => `tmp/${x}`), ...locks.map((x) => `locks/${x}`)])
          leftNames.push(`kill ${i}: ${f}`);
        await rm(cacheDir, { recursive: true, force: true });
      }
      report({
        area: 'loader kill -9 + restart',
        trials: KILLS,
        failures: failures.length,
        leftovers,
        note: `${midDownload} killed mid-download; ${youngTemps} orphaned record temp files kept by the immediate restart and removed by the next boot`,
      });
      expect(failures).toEqual([]);
      expect(leftNames).toEqual([]);
      expect(leftovers).toBe(0);
      expect(midDownload).toBeGreaterThanOrEqual(Math.floor(KILLS / 2));
    },
    TRIAL_TIMEOUT,
  );
});
