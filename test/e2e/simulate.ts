/**
 * The dyno simulation: builds the model example as a Heroku app repo with
 * its weights committed, measures its slug, moves the weights out with
 * `stowage migrate-assets` (to the S3 test server), measures again, then
 * boots the slug as a dyno would: from a fresh copy with PORT set, a cold
 * boot with the download held open (503 while loading, 200 after), a
 * restart on a wiped disk, and a crash-restart on the same disk (warm).
 *
 * Figures are printed and returned, never asserted. Run it standalone:
 *   STOWAGE_SIM_MB=1024 npx vitest run test/e2e/dyno.test.ts
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { runCli } from '../../src/cli/index.js';
import { startS3Server } from '../servers/s3-server.js';
import { buildLibrary, REPO_ROOT } from './build-lib.js';
import { bootDyno, type Dyno } from './dyno.js';
import { startGateProxy } from './gate-proxy.js';
import { buildSlug, compressedSize, git } from './slug.js';

const run = promisify(execFile);

/** The app's runtime dependencies (what its package.json lists besides stowage). */
export const APP_DEPENDENCIES = ['express', '@aws-sdk/client-s3'];
const MODEL_PATH = 'models/sentiment.f32';

export interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

export interface Boot {
  /** Launch to bound port, ms. */
  bindMs: number;
  /** Launch to the first 200 from /predict, ms. */
  readyMs: number;
  /** GET requests for the weights that reached storage during this boot. */
  downloads: number;
  logs: string;
}

export interface SimulationResult {
  modelBytes: number;
  slugBytesBefore: number;
  slugBytesAfter: number;
  slugFilesBefore: number;
  slugFilesAfter: number;
  migrateOutput: string;
  migrateExitCode: number;
  slugignore: string;
  /** First boot, download held: the answer while loading, then after. */
  whileLoading: Answer;
  afterLoading: Answer;
  negative: Answer;
  cold: Boot;
  /** Fresh copy of the slug, empty cache: recovers by downloading again. */
  wiped: Boot;
  /** SIGKILL and restart on the same disk: the weights are already there. */
  warm: Boot;
}

async function predict(url: string, text: string): Promise<Answer> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** Polls /predict until it answers 200; returns launch-to-200 in ms. */
async function untilReady(dyno: Dyno, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const answer = await predict(dyno.url, 'great').catch(() => undefined);
    if (answer?.status === 200) return performance.now() - dyno.startedAt;
    if (dyno.child.exitCode !== null) throw new Error(`the dyno exited:\n${dyno.logs()}`);
    if (performance.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms:\n${dyno.logs()}`);
    await sleep(20);
  }
}

export interface SimulateOptions {
  /** Size of the model in MiB (default STOWAGE_SIM_MB, else 4). */
  mb?: number;
  log?: (line: string) => void;
}

export function simMegabytes(): number {
  const mb = Number(process.env.STOWAGE_SIM_MB ?? 4);
  if (!(mb > 0)) throw new Error('STOWAGE_SIM_MB must be a positive number of MiB');
  return mb;
}

export async function simulate(options: SimulateOptions = {}): Promise<SimulationResult> {
  const mb = options.mb ?? simMegabytes();
  const log = options.log ?? (() => undefined);
  const readyTimeout = 30_000 + mb * 200;
  const work = await mkdtemp(join(tmpdir(), 'stowage-dyno-'));
  const s3 = await startS3Server({ bucket: 'slug-assets' });
  const gate = await startGateProxy(Number(new URL(s3.endpoint).port));
  const dynos: Dyno[] = [];
  const boot = async (dir: string) => {
    const dyno = await bootDyno(dir, {
      // The same store the CLI used, through the gate, credentials included (a config var).
      STOWAGE_URL: `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}?region=${s3.region}&endpoint=${encodeURIComponent(gate.endpoint)}&forcePathStyle=true`,
    });
    dynos.push(dyno);
    return dyno;
  };
  const weightGets = async () =>
    (await s3.requests()).filter((r) => r.method === 'GET' && r.path.includes('/sha256/')).length;

  try {
    // 1. The app repo: the model example with its weights committed, as teams start.
    const repo = join(work, 'repo');
    await mkdir(repo);
    const stowageDir = await buildLibrary(join(work, 'lib'));
    for (const f of ['server.mjs', 'model.mjs', 'corpus.mjs', 'generate.mjs'])
      await copyFile(join(REPO_ROOT, 'examples/model', f), join(repo, f));
    for (const f of ['Procfile', 'app.json', '.slugignore', 'package.json'])
      await copyFile(join(REPO_ROOT, 'examples/heroku', f), join(repo, f));
    await writeFile(join(repo, '.gitignore'), 'node_modules/\n');
    await run(process.execPath, ['generate.mjs', '--mb', String(mb), '--out', MODEL_PATH], { cwd: repo });
    await git(repo, 'init', '-q', '-b', 'main');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'app with weights in the repo');
    const modelBytes = mb * 1024 * 1024;

    // 2. The slug as it is today.
    const before = await buildSlug(repo, join(work, 'slug-before'), stowageDir, APP_DEPENDENCIES);
    const slugBytesBefore = await compressedSize(join(work, 'slug-before'));
    log(`slug before migrate-assets: ${before.files.length} files, ${slugBytesBefore} bytes compressed`);
    await rm(join(work, 'slug-before'), { recursive: true, force: true });

    // 3. Move the weights out, commit the lock file and .slugignore, build again.
    let migrateOutput = '';
    const sink = { write: (t: string) => (migrateOutput += t) };
    const direct = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}?region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
    const migrateExitCode = await runCli(['migrate-assets', '--to', direct, 'models/**'], {
      io: { stdout: sink, stderr: sink, env: {}, cwd: repo },
    });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'weights moved to object storage');
    const slugDir = join(work, 'slug');
    const after = await buildSlug(repo, slugDir, stowageDir, APP_DEPENDENCIES);
    const slugBytesAfter = await compressedSize(slugDir);
    const slugignore = await readFile(join(repo, '.slugignore'), 'utf8');
    log(`slug after migrate-assets: ${after.files.length} files, ${slugBytesAfter} bytes compressed`);

    const copySlug = async (name: string) => {
      const dir = join(work, name);
      await run('cp', ['-al', slugDir, dir]);
      return dir;
    };

    // 4. First boot, download held at the gate: the port is bound, requests get 503.
    gate.close();
    await s3.clearRequests();
    const first = await boot(await copySlug('dyno-1'));
    const firstBind = await first.bound();
    const whileLoading = await predict(first.url, 'a wonderful film');
    gate.open();
    const firstReady = await untilReady(first, readyTimeout);
    const afterLoading = await predict(first.url, 'a wonderful and moving film');
    const negative = await predict(first.url, 'boring and awful, a waste of money');
    const cold: Boot = {
      bindMs: firstBind,
      readyMs: firstReady,
      downloads: await weightGets(),
      logs: first.logs(),
    };
    await first.kill();

    // 5. Daily restart: a new dyno on a wiped disk (a fresh copy, no cache).
    await rm(join(work, 'dyno-1'), { recursive: true, force: true });
    await s3.clearRequests();
    const dir2 = await copySlug('dyno-2');
    const second = await boot(dir2);
    const wipedBind = await second.bound();
    const wipedReady = await untilReady(second, readyTimeout);
    const wiped: Boot = {
      bindMs: wipedBind,
      readyMs: wipedReady,
      downloads: await weightGets(),
      logs: second.logs(),
    };
    await second.kill();

    // 6. Crash and restart on the same disk: the cache and the placed file are still there.
    await s3.clearRequests();
    const third = await boot(dir2);
    const warmBind = await third.bound();
    const warmReady = await untilReady(third, readyTimeout);
    const warm: Boot = {
      bindMs: warmBind,
      readyMs: warmReady,
      downloads: await weightGets(),
      logs: third.logs(),
    };
    await third.kill();

    return {
      modelBytes,
      slugBytesBefore,
      slugBytesAfter,
      slugFilesBefore: before.files.length,
      slugFilesAfter: after.files.length,
      migrateOutput,
      migrateExitCode,
      slugignore,
      whileLoading,
      afterLoading,
      negative,
      cold,
      wiped,
      warm,
    };
  } finally {
    for (const d of dynos) await d.kill();
    await gate.stop();
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}

const MiB = 1024 * 1024;
const ms = (n: number) => `${Math.round(n)} ms`;

/** The figures as a markdown table (for BENCHMARKS.md). */
export function figures(r: SimulationResult): string {
  return [
    `| dyno simulation, model ${(r.modelBytes / MiB).toFixed(0)} MiB | value |`,
    '| --- | --- |',
    `| slug before migrate-assets (tar.gz) | ${(r.slugBytesBefore / MiB).toFixed(1)} MiB (${r.slugFilesBefore} app files) |`,
    `| slug after migrate-assets (tar.gz) | ${(r.slugBytesAfter / MiB).toFixed(1)} MiB (${r.slugFilesAfter} app files) |`,
    `| cold boot, download held: bind / ready | ${ms(r.cold.bindMs)} / (held) |`,
    `| restart on a wiped disk: bind / ready | ${ms(r.wiped.bindMs)} / ${ms(r.wiped.readyMs)} (${r.wiped.downloads} GET) |`,
    `| restart on the same disk (warm): bind / ready | ${ms(r.warm.bindMs)} / ${ms(r.warm.readyMs)} (${r.warm.downloads} GET) |`,
  ].join('\n');
}
