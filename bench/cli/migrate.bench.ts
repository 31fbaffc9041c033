/**
 * migrate-assets against `aws s3 sync`, both uploading the same tree to the
 * S3 test server (s3rver on loopback): a cold run, then a re-run with
 * nothing changed. Goals (issue 8): cold ≤ 1.0×, re-run ≤ 0.2× aws-cli's time.
 *
 *   BENCH_FILES=2000 BENCH_SIZE_MB=500 npx vitest run -c bench/cli/vitest.config.ts
 *
 * BENCH_ROUNDS (default 3) cold + re-run rounds, alternating which tool goes
 * first; the medians are reported. stowage runs with its defaults
 * (`--verify put`); one extra cold run shows `--verify head`.
 *
 * stowage runs as the real bin (a child process, like aws), transpiled once.
 * Needs the aws CLI (`apt-get install -y awscli` or pip).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { transformWithOxc } from 'vite';
import { expect, test } from 'vitest';
import { startS3Server } from '../../test/servers/s3-server.js';
import { reportFigure } from '../lib/report.js';

const FILES = Number(process.env.BENCH_FILES ?? 2000);
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 500);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const ROOT = resolve(import.meta.dirname, '../..');
const WORK = process.env.BENCH_DIR ?? join(ROOT, 'node_modules', '.cache', 'stowage-bench-cli');

function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** FILES files, SIZE_MB in total, sizes spread from small to large (random bytes: incompressible). */
async function makeTree(dir: string): Promise<void> {
  const total = SIZE_MB * 1_000_000;
  const weights = Array.from({ length: FILES }, (_, i) => 1 + (i % 50) ** 2);
  const sum = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < FILES; i++) {
    const path = join(
      dir,
      'assets',
      `d${String(i % 40).padStart(2, '0')}`,
      `f${String(i).padStart(5, '0')}.png`,
    );
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, randomBytes(Math.max(1024, Math.round((total * weights[i]!) / sum))));
  }
}

async function transpileBins(outDir: string): Promise<string> {
  for (const top of ['src', 'adapters']) {
    for (const entry of await readdir(join(ROOT, top), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
      const source = join(entry.parentPath, entry.name);
      const target = join(outDir, relative(ROOT, source)).replace(/\.ts$/, '.js');
      let code: string;
      try {
        ({ code } = await transformWithOxc(await readFile(source, 'utf8'), source, { lang: 'ts' }));
      } catch {
        continue; // A file mid-edit elsewhere in the tree; the bin fails loudly if it needs it.
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, code);
    }
  }
  await symlink(join(ROOT, 'node_modules'), join(outDir, 'node_modules'));
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  return join(outDir, 'src/cli/bin.js');
}

test('migrate-assets vs aws s3 sync', async () => {
  await rm(WORK, { recursive: true, force: true });
  const repo = join(WORK, 'repo');
  await mkdir(repo, { recursive: true });
  const bin = await transpileBins(join(WORK, 'build'));
  await makeTree(repo);
  const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: repo, maxBuffer: 1 << 26 });
  await git('init', '-q');
  await git('-c', 'user.email=b@example.com', '-c', 'user.name=bench', 'add', '-A');
  await git('-c', 'user.email=b@example.com', '-c', 'user.name=bench', 'commit', '-qm', 'tree');

  const s3 = await startS3Server();
  try {
    const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
    const url = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/stowage?${query}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_DEFAULT_REGION: s3.region,
      // s3rver stores aws-chunked framing as data under the default checksum mode.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    };
    const stowage = (prefix: string, ...extra: string[]) =>
      exec(
        process.execPath,
        [
          bin,
          'migrate-assets',
          '--to',
          url.replace('/stowage?', `/${prefix}?`),
          '--concurrency',
          '10',
          ...extra,
        ],
        repo,
        env,
      );
    const aws = (prefix: string) =>
      exec(
        'aws',
        [
          's3',
          'sync',
          'assets',
          `s3://${s3.bucket}/${prefix}/assets`,
          '--endpoint-url',
          s3.endpoint,
          '--only-show-errors',
        ],
        repo,
        env,
      );
    /** Cold means cold: no manifest, no .slugignore, no hash cache, a fresh prefix. */
    const forget = async () => {
      for (const file of ['stowage.lock.json', '.slugignore', 'node_modules'])
        await rm(join(repo, file), { recursive: true, force: true });
    };
    // Rounds alternate which tool goes first, so neither always meets a warmer (or fuller) server.
    const rounds: Record<'awsCold' | 'stowageCold' | 'awsRerun' | 'stowageRerun', number>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const figures = { awsCold: 0, stowageCold: 0, awsRerun: 0, stowageRerun: 0 };
      const runAws = async () => {
        figures.awsCold = await timed(() => aws(`aws-${round}`));
        figures.awsRerun = await timed(() => aws(`aws-${round}`));
      };
      const runStowage = async () => {
        await forget();
        figures.stowageCold = await timed(() => stowage(`stowage-${round}`));
        figures.stowageRerun = await timed(() => stowage(`stowage-${round}`));
        const manifest = JSON.parse(await readFile(join(repo, 'stowage.lock.json'), 'utf8'));
        expect(manifest.files).toHaveLength(FILES);
      };
      if (round % 2 === 0) {
        await runAws();
        await runStowage();
      } else {
        await runStowage();
        await runAws();
      }
      rounds.push(figures);
    }
    const median = (key: keyof (typeof rounds)[number]) => {
      const sorted = rounds.map((r) => r[key]).sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)]!;
    };
    const results = {
      rounds: ROUNDS,
      awsCold: median('awsCold'),
      stowageCold: median('stowageCold'),
      awsRerun: median('awsRerun'),
      stowageRerun: median('stowageRerun'),
      // One listing, like sync: what a re-run costs when it asks storage about every file.
      stowageRecheck: await timed(() => stowage(`stowage-${ROUNDS - 1}`, '--recheck')),
      stowageColdHead: 0,
      perRound: rounds,
    };
    // The stricter verification: a HEAD per object after its upload.
    await forget();
    results.stowageColdHead = await timed(() => stowage('stowage-head', '--verify', 'head'));
    await reportFigure({ files: FILES, sizeMB: SIZE_MB, ...results });
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      [
        `\nmigrate-assets vs aws s3 sync: ${FILES} files, ${SIZE_MB} MB, s3rver on loopback, median of ${ROUNDS} round(s)`,
        `  cold     stowage ${s(results.stowageCold)}  aws ${s(results.awsCold)}  ratio ${(results.stowageCold / results.awsCold).toFixed(2)}× (goal ≤ 1.0×)`,
        `  re-run   stowage ${s(results.stowageRerun)}  aws ${s(results.awsRerun)}  ratio ${(results.stowageRerun / results.awsRerun).toFixed(2)}× (goal ≤ 0.2×)`,
        `  re-run --recheck (one listing, like sync)  stowage ${s(results.stowageRecheck)}  ratio ${(results.stowageRecheck / results.awsRerun).toFixed(2)}×`,
        `  cold --verify head (a HEAD per object)     stowage ${s(results.stowageColdHead)}  ratio ${(results.stowageColdHead / results.awsCold).toFixed(2)}×`,
        ...rounds.map(
          (r, i) =>
            `  round ${i + 1}: cold ${s(r.stowageCold)} vs ${s(r.awsCold)}, re-run ${s(r.stowageRerun)} vs ${s(r.awsRerun)}`,
        ),
      ].join('\n'),
    );
  } finally {
    await s3.stop();
    await rm(WORK, { recursive: true, force: true });
  }
});
