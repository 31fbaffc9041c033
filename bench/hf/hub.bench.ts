/**
 * One LFS file from the hub emulator (test/servers/hf-hub.ts in its own process,
 * the file streamed from disk through its CDN server): stowage
 * `loadModel('hf://…')` against Python `huggingface_hub.hf_hub_download` and JS
 * `@huggingface/hub` `downloadFileToCacheDir`, alternating, cold and warm (file
 * already cached), with this machine's limits measured in the same run.
 *
 *   BENCH_SIZE_MB=1024 BENCH_RUNS=3 npx vitest run -c bench/hf/vitest.config.ts
 *
 * Every side is timed in its own process without start-up: stowage and the JS
 * client in this one, Python in one long-lived worker (bench/hf/hf_hub_worker.py).
 * All pin the same commit. Each result is checked (size and sha256) after the clock stops.
 * Asserts nothing about timings.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { downloadFileToCacheDir } from '@huggingface/hub';
import { test } from 'vitest';
import { digestFile } from '../../src/core/integrity.js';
import { loadModel } from '../../src/loader/index.js';
import { measureLimits } from '../lib/limits.js';
import { reportFigure } from '../lib/report.js';
import { alternate, median, timed } from '../lib/stats.js';
import { makeFile } from '../loader/tools.js';
import type { HfFigure, HfSideFigure, Side } from './figure.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LIMITS_MB = Number(process.env.BENCH_LIMITS_MB ?? SIZE_MB);
const WARM_RUNS = 20;
const WORK = process.env.BENCH_DIR ?? join(ROOT, 'node_modules', '.cache', 'stowage-bench-hf');
const REPO = 'bench/model';
const FILE = 'model.bin';

/** A child process that answers one JSON line per JSON line it is sent. */
function lineChannel(child: ChildProcess): { next(): Promise<Record<string, unknown>>; lines: Interface } {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<never>((_, reject) =>
    child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stderr.slice(-800)}`))),
  );
  exited.catch(() => undefined);
  return {
    lines,
    next: () => {
      const line = queue.shift();
      const got = line !== undefined ? Promise.resolve(line) : new Promise<string>((r) => waiting.push(r));
      return Promise.race([got, exited]).then((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

async function startHub(file: string, sha256: string) {
  // Bundled so it runs under plain node, outside this process.
  const bundle = join(WORK, 'hub-child.mjs');
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [
    join(ROOT, 'bench/hf/hub-child.ts'),
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--target=node20',
    '--log-level=warning',
    `--outfile=${bundle}`,
  ]);
  const child = spawn(process.execPath, [bundle], {
    env: {
      ...process.env,
      BENCH_HF_FILE: file,
      BENCH_HF_SIZE: String(SIZE_MB * 1024 * 1024),
      BENCH_HF_SHA256: sha256,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const channel = lineChannel(child);
  const { url, commit } = (await channel.next()) as { url: string; commit: string };
  /** The emulator's CPU since the last call (ms) and the requests it answered meanwhile. */
  let lastCpu = 0;
  const usage = async () => {
    child.stdin?.write('cpu\n');
    const { cpuMs, requests } = (await channel.next()) as { cpuMs: number; requests: number };
    const spent = cpuMs - lastCpu;
    lastCpu = cpuMs;
    return { cpuMs: spent, requests };
  };
  return { url, commit, usage, stop: () => child.stdin?.end() };
}

async function startPython(url: string, home: string) {
  const child = spawn('python3', [join(ROOT, 'bench/hf/hf_hub_worker.py')], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING_FACE_)/.test(k))),
      HF_ENDPOINT: url,
      HF_HOME: home,
      HF_HUB_DISABLE_TELEMETRY: '1',
      HF_HUB_DISABLE_PROGRESS_BARS: '1',
      // The emulator speaks plain HTTP resolve/CDN, not Xet.
      HF_HUB_DISABLE_XET: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const channel = lineChannel(child);
  await channel.next();
  return {
    download: async (revision: string, cacheDir: string) => {
      child.stdin?.write(`${JSON.stringify({ repo: REPO, path: FILE, revision, cache_dir: cacheDir })}\n`);
      const answer = (await channel.next()) as { ms?: number; path?: string; error?: string };
      if (answer.error || answer.ms === undefined) throw new Error(`hf_hub_download: ${answer.error}`);
      return { ms: answer.ms, path: answer.path as string };
    },
    stop: () => child.stdin?.end(),
  };
}

function versions(): { versions: Record<string, string>; hfTransfer: string } {
  const py = (code: string) => {
    try {
      return execFileSync('python3', ['-c', code], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch (err) {
      return `not installed (${String((err as Error).message)
        .split('\n')
        .filter(Boolean)
        .pop()})`;
    }
  };
  const js = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules/@huggingface/hub/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  return {
    versions: {
      huggingface_hub: py('import huggingface_hub; print(huggingface_hub.__version__)'),
      '@huggingface/hub': js,
      node: process.version,
      python: py('import sys; print(sys.version.split()[0])'),
    },
    hfTransfer: py('import hf_transfer; print("installed (not enabled: HF_HUB_ENABLE_HF_TRANSFER unset)")'),
  };
}

test('hub download benchmark', async () => {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const limits = await measureLimits(WORK, LIMITS_MB);
  const served = join(WORK, 'served.bin');
  const source = await makeFile(served, SIZE_MB);
  const bytes = SIZE_MB * 1024 * 1024;
  const hub = await startHub(served, source.sha256);
  const python = await startPython(hub.url, join(WORK, 'py-home'));
  const cache = (side: Side) => join(WORK, `cache-${side}`);
  const downloads: Record<Side, (revision: string) => Promise<{ ms: number; path: string }>> = {
    stowage: async (revision) => {
      const { ms, value } = await timed(() =>
        loadModel(`hf://${REPO}@${revision}/${FILE}`, {
          cacheDir: cache('stowage'),
          hfEndpoint: hub.url,
          progressInterval: 0,
        }),
      );
      return { ms, path: value };
    },
    python: (revision) => python.download(revision, cache('python')),
    js: async (revision) => {
      const { ms, value } = await timed(() =>
        downloadFileToCacheDir({
          repo: REPO,
          path: FILE,
          revision,
          hubUrl: hub.url,
          cacheDir: cache('js'),
        }),
      );
      return { ms, path: value };
    },
  };
  const sides = Object.keys(downloads) as Side[];
  try {
    await hub.usage();
    const cold = await alternate(
      RUNS,
      Object.fromEntries(
        sides.map((side) => [
          side,
          async () => {
            await rm(cache(side), { recursive: true, force: true });
            await hub.usage();
            const got = await downloads[side](hub.commit);
            const served = await hub.usage();
            // Outside the clock: the bytes each side kept are the right ones.
            const { size } = await stat(got.path);
            const { sha256 } = await digestFile(got.path);
            if (size !== bytes || sha256 !== source.sha256) {
              throw new Error(`${side} kept a wrong file: ${size} bytes, sha256 ${sha256}`);
            }
            return { ms: got.ms, ...served };
          },
        ]),
      ),
    );
    await hub.usage();
    const warm = await alternate(
      WARM_RUNS,
      Object.fromEntries(
        sides.map((side) => [
          side,
          async () => {
            const { ms } = await downloads[side](hub.commit);
            return { ms, requests: (await hub.usage()).requests };
          },
        ]),
      ),
    );
    const label: Record<Side, string> = {
      stowage: "stowage loadModel('hf://…')",
      python: 'huggingface_hub.hf_hub_download',
      js: '@huggingface/hub downloadFileToCacheDir',
    };
    const figure: HfFigure = {
      sizeMB: SIZE_MB,
      runs: RUNS,
      warmRuns: WARM_RUNS,
      limits,
      ...versions(),
      sides: Object.fromEntries(
        sides.map((side) => [
          side,
          {
            label: label[side],
            coldMs: (cold[side] ?? []).map((r) => r.ms),
            hubCpuMs: (cold[side] ?? []).map((r) => r.cpuMs),
            coldRequests: median((cold[side] ?? []).map((r) => r.requests)),
            warmRequests: Math.max(...(warm[side] ?? []).map((r) => r.requests)),
            warmMs: (warm[side] ?? []).map((r) => r.ms),
            // stowage checks X-Linked-Etag while streaming; the others check the size at most.
            verifiesSha256: side === 'stowage',
          },
        ]),
      ) as Record<Side, HfSideFigure>,
    };
    await reportFigure(figure);
    for (const side of sides) {
      const f = figure.sides[side];
      console.log(
        `${f.label.padEnd(42)} cold ${(median(f.coldMs) / 1000).toFixed(2)} s (${(SIZE_MB / (median(f.coldMs) / 1000)).toFixed(0)} MB/s, emulator CPU ${(median(f.hubCpuMs) / 1000).toFixed(2)} s, ${f.coldRequests} requests)  warm ${median(f.warmMs).toFixed(2)} ms (${f.warmRequests} requests)`,
      );
    }
    console.log(`limits: ${JSON.stringify(limits)}`);
  } finally {
    python.stop();
    hub.stop();
    await rm(WORK, { recursive: true, force: true });
  }
});
