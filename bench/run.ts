/**
 * The benchmark suite, one command: installs or starts the peers, measures
 * this machine's limits, runs every figure (stowage and its peers alternating,
 * medians of several runs) and writes BENCHMARKS.md.
 *
 *   npm run bench                        # BENCH_SCALE=small (64–256 MB)
 *   BENCH_SCALE=smoke npm run bench      # seconds per figure: proves the harness
 *   BENCH_SCALE=full npm run bench       # the 1 GiB figures
 *
 * BENCH_OUT changes where the report goes (default BENCHMARKS.md); BENCH_ONLY=upload,boots
 * runs only the figures whose titles contain one of those words (for working on one figure).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'vitest';
import { buildLibrary } from '../test/e2e/build-lib.js';
import { bootsFigure } from './lib/boots.js';
import { runChildBench } from './lib/child-bench.js';
import { measureLimits } from './lib/limits.js';
import { type LoaderRss, loaderRssFigure } from './lib/loader-rss.js';
import { ensurePeers } from './lib/peers.js';
import { renderReport, type Section } from './lib/render.js';
import { resolveScale } from './lib/scale.js';
import { makeFile } from './loader/tools.js';
import { directMultipartFigure } from './upload/direct-multipart.js';
import { uploadFigure } from './upload/upload.js';

const ROOT = resolve(import.meta.dirname, '..');

async function runBenchmarks(): Promise<string> {
  const scale = resolveScale();
  const log = (line: string) => console.log(`[bench] ${line}`);
  const work = join(ROOT, 'node_modules', '.cache', 'stowage-bench-run');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const started = new Date();
  const loadBefore = loadavg();
  const sections: Section[] = [];
  /** Runs one figure; a failure is reported in its section, never ends the run. */
  const only = (process.env.BENCH_ONLY ?? '').toLowerCase().split(',').filter(Boolean);
  const figure = async (title: string, fn: () => Promise<Omit<Section, 'title'>>) => {
    if (only.length && !only.some((word) => title.toLowerCase().includes(word))) return;
    log(`${title}…`);
    const t0 = performance.now();
    try {
      sections.push({ title, ...(await fn()) });
    } catch (err) {
      sections.push({ title, error: String((err as Error)?.stack ?? err).slice(0, 800) });
    }
    log(`${title}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };

  const skipped = ensurePeers(log);
  log('measuring machine limits');
  const limits = await measureLimits(work, scale.limitsMB);
  const dist = join(await buildLibrary(join(work, 'lib')), 'dist');
  const served = join(work, 'served');
  await mkdir(served, { recursive: true });
  const model = await makeFile(join(served, 'model.bin'), scale.bootsMB);
  const runs = scale.runs;

  await figure('Loader cold and warm (HTTP and S3 sources)', async () => {
    const child = await runChildBench<Record<string, number | undefined>>(
      ROOT,
      'loader',
      { BENCH_SIZE_MB: scale.loaderMB, BENCH_S3_SIZE_MB: scale.loaderS3MB, BENCH_RUNS: runs },
      work,
    );
    let rss: LoaderRss | undefined;
    try {
      rss = await loaderRssFigure({
        servedDir: served,
        fileName: 'model.bin',
        sha256: model.sha256,
        workDir: work,
        stowageDist: dist,
      });
    } catch (err) {
      log(`loader RSS not measured: ${err}`);
    }
    return { kind: 'loader', child, data: { rss, rssMB: scale.bootsMB } };
  });

  await figure('8 concurrent boots (bytes downloaded)', async () => {
    const data = await bootsFigure({
      servedDir: served,
      fileName: 'model.bin',
      objectBytes: scale.bootsMB * 1024 * 1024,
      sha256: model.sha256,
      cacheDir: join(work, 'boots-cache'),
      stowageDist: dist,
      processes: 8,
    });
    return { kind: 'boots', data };
  });

  await figure('upload() vs multer + multer-s3', async () => {
    const file = join(work, 'upload.bin');
    await makeFile(file, scale.uploadMB);
    const data = await uploadFigure({ file, sizeMB: scale.uploadMB, runs, stowageDist: dist });
    await rm(file, { force: true });
    return { kind: 'upload', data };
  });

  await figure('Direct multipart upload (browser-style, via directUpload) vs aws s3 cp', async () => {
    const file = join(work, 'direct.bin');
    await makeFile(file, scale.directMB);
    const data = await directMultipartFigure({
      file,
      sizeMB: scale.directMB,
      runs,
      stowageDist: dist,
      workDir: work,
    });
    await rm(file, { force: true });
    return { kind: 'direct-multipart', data };
  });

  await figure('serve() vs express.static (hot 10 KB object)', async () => {
    const child = await runChildBench(
      ROOT,
      'serve',
      {
        BENCH_DURATION: scale.serveSeconds,
        BENCH_CONNECTIONS: scale.serveConnections,
        BENCH_ROUNDS: runs,
        BENCH_COLD_KEYS: scale.name === 'smoke' ? 5 : 50,
      },
      work,
    );
    return { kind: 'serve', child };
  });

  await figure('migrate-assets vs aws s3 sync', async () => {
    // bench/cli alternates aws and stowage for BENCH_ROUNDS rounds and reports medians.
    const child = await runChildBench<Record<string, number>>(
      ROOT,
      'cli',
      { BENCH_FILES: scale.cliFiles, BENCH_SIZE_MB: scale.cliMB, BENCH_ROUNDS: scale.cliRounds },
      work,
    );
    return {
      kind: 'cli',
      child,
      data: { rounds: scale.cliRounds, files: scale.cliFiles, sizeMB: scale.cliMB },
    };
  });

  await figure('Hugging Face Hub download (hf://) vs huggingface_hub and @huggingface/hub', async () => {
    const child = await runChildBench(
      ROOT,
      'hf',
      { BENCH_SIZE_MB: scale.hfMB, BENCH_RUNS: runs, BENCH_LIMITS_MB: scale.limitsMB },
      work,
    );
    return { kind: 'hf', child };
  });

  await figure('S3Storage put/get vs aws s3 cp', async () => {
    const child = await runChildBench(ROOT, 's3', { BENCH_S3_MB: scale.s3MB, BENCH_RUNS: runs }, work);
    return { kind: 's3', child };
  });

  await figure('Dyno simulation (bind, ready, slug size)', async () => {
    let sim: typeof import('../test/e2e/simulate.js');
    try {
      sim = await import('../test/e2e/simulate.js');
    } catch (err) {
      return { kind: 'dyno', error: `missing: test/e2e/simulate.ts could not be loaded (${err})` };
    }
    const result = await sim.simulate({ mb: scale.dynoMB, log: (line) => log(`[sim] ${line}`) });
    return {
      kind: 'dyno',
      markdown: sim.figures(result),
      data: { command: `STOWAGE_SIM_MB=${scale.dynoMB} npx vitest run test/e2e/dyno.test.ts` },
    };
  });

  await rm(work, { recursive: true, force: true });
  const report = renderReport({
    scale,
    started,
    finished: new Date(),
    loadBefore,
    loadAfter: loadavg(),
    limits,
    skipped,
    sections,
  });
  const out = process.env.BENCH_OUT ?? join(ROOT, 'BENCHMARKS.md');
  await writeFile(out, report);
  log(`wrote ${out}`);
  return report;
}

test('benchmark suite (writes BENCHMARKS.md)', async () => {
  console.log(await runBenchmarks());
});
