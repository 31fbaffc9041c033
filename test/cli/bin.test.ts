import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { startS3Server } from '../servers/s3-server.js';
import { type Bins, buildBins } from './bins.js';
import { bytes, makeRepo, removeDir, tempDir } from './helpers.js';

let bins: Bins;
let bin: string;
let migrateBin: string;

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function start(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [file, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finish(child: ChildProcess, onStderr?: (text: string) => void): Promise<Finished> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    onStderr?.(err);
  });
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, out, err })));
}

function runBin(file: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Finished> {
  return finish(start(file, args, cwd, env));
}

beforeAll(async () => {
  bins = await buildBins();
  bin = bins.stowage;
  migrateBin = bins.migrateAssets;
  expect((await readFile(bin, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
});

afterAll(() => bins.remove());

describe('stowage bins (child processes)', () => {
  it('--help works on every command and documents the exit codes', async () => {
    const cwd = bins.dir;
    const commands = [[], ['analyze'], ['migrate-assets'], ['pull'], ['verify']];
    const results = await Promise.all(commands.map((args) => runBin(bin, [...args, '--help'], cwd)));
    commands.forEach((args, i) => {
      const r = results[i]!;
      expect(r.code).toBe(EXIT.OK);
      expect(r.out).toContain(`Usage: stowage ${args[0] ?? ''}`.trimEnd());
      expect(r.out).toContain('Exit codes:');
    });
    const own = await runBin(migrateBin, ['--help'], cwd);
    expect(own.code).toBe(EXIT.OK);
    expect(own.out).toContain('Usage: migrate-assets [options] [globs...]');
    const bad = await runBin(bin, ['nope'], cwd);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.err).toContain("unknown command 'nope'");
  });

  describe('migrate-assets interrupted midway', () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 60; i++)
      files[`assets/img-${String(i).padStart(2, '0')}.png`] = bytes(100_000, `img ${i}`);
    let repo: string;
    let store: string;

    beforeAll(async () => {
      repo = await makeRepo(files);
    });
    afterAll(async () => {
      await removeDir(repo);
      await removeDir(store);
    });

    for (const signal of ['SIGKILL', 'SIGINT'] as const) {
      it(`${signal} after the first upload, then a re-run completes`, async () => {
        store = await tempDir('store');
        const args = ['migrate-assets', '--to', `file:${store}`, '--concurrency', '1'];
        const child = start(bin, args, repo);
        const first = await finish(child, (err) => {
          if (err.includes('[1/60] uploaded') && child.exitCode === null && !child.killed) child.kill(signal);
        });
        expect(first.err).toContain('[1/60] uploaded');
        if (signal === 'SIGKILL') expect(first.signal).toBe('SIGKILL');
        else expect(first.code).toBe(EXIT.INTERRUPTED);
        expect(first.err).not.toContain('[60/60] uploaded');
        // Nothing recorded until the run completes.
        await expect(readFile(join(repo, 'stowage.lock.json'))).rejects.toThrow();

        const second = await runBin(bin, args, repo);
        expect(second.code).toBe(EXIT.OK);
        const uploaded = Number(/Uploaded (\d+) file/.exec(second.out)?.[1]);
        const stored = Number(/; (\d+) already stored/.exec(second.out)?.[1]);
        expect(stored).toBeGreaterThan(0);
        expect(uploaded + stored).toBe(60);
        const manifest = JSON.parse(await readFile(join(repo, 'stowage.lock.json'), 'utf8'));
        expect(manifest.files).toHaveLength(60);
        expect((await runBin(bin, ['verify'], repo)).code).toBe(EXIT.OK);
        await removeDir(store);
        await removeDir(join(repo, 'stowage.lock.json'));
        await removeDir(join(repo, '.slugignore'));
      });
    }
  });

  it('a re-run with nothing changed loads no storage SDK and none of the packages it does not need', async () => {
    const s3 = await startS3Server();
    const repo = await makeRepo({
      'a.png': bytes(2000, 'a'),
      'b.woff2': bytes(3000, 'b'),
      'index.js': 'x\n',
    });
    try {
      // Written at exit by the child: every CommonJS module it loaded (packages are CommonJS here).
      const report = join(repo, 'modules.json');
      const hook = join(repo, 'report-modules.cjs');
      await writeFile(
        hook,
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(Object.keys(require.cache))));\n`,
      );
      const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
      const url = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/app?${query}`;
      const env = { NODE_OPTIONS: `--require ${hook}` };
      const loaded = async (): Promise<string[]> => JSON.parse(await readFile(report, 'utf8'));
      const heavy = ['@aws-sdk', '@smithy', 'mime-types', 'ignore', 'picomatch'];
      const which = (modules: string[]) =>
        heavy.filter((name) => modules.some((m) => m.includes(`/node_modules/${name}/`)));

      const cold = await runBin(bin, ['migrate-assets', '--to', url], repo, env);
      expect(cold.code, cold.err).toBe(EXIT.OK);
      expect(cold.out).toContain('Uploaded 2 file(s)');
      // The hook sees what a run needing storage loads.
      expect(which(await loaded())).toEqual(expect.arrayContaining(['@aws-sdk', '@smithy', 'mime-types']));

      await s3.clearRequests();
      const again = await runBin(bin, ['migrate-assets', '--to', url], repo, env);
      expect(again.code, again.err).toBe(EXIT.OK);
      expect(again.out).toContain('Nothing to upload: 2 file(s), 5.0 kB, already in storage;');
      expect(which(await loaded())).toEqual([]);
      expect(await s3.requests()).toEqual([]);
    } finally {
      await s3.stop();
      await removeDir(repo);
    }
  });

  it("no AWS SDK NodeVersionSupportWarning on the CLI's output, unless asked for", async () => {
    const s3 = await startS3Server();
    const repo = await makeRepo({ 'a.png': bytes(2000, 'a'), 'index.js': 'x\n' });
    try {
      const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
      const url = `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/app?${query}`;
      const args = ['migrate-assets', '--dry-run', '--to', url];
      const quiet = await runBin(bin, args, repo);
      expect(quiet.code, quiet.err).toBe(EXIT.OK);
      // The dry run asked storage: the SDK was loaded and its client created.
      expect(quiet.out).toContain('1 to upload');
      expect(quiet.err).not.toContain('NodeVersionSupportWarning');
      // The SDK's own switch still rules: "false" brings the warning back where the SDK emits it (Node < 22).
      const asked = await runBin(bin, args, repo, {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false',
      });
      expect(asked.code, asked.err).toBe(EXIT.OK);
      const sdkWarns = Number(process.versions.node.split('.')[0]) < 22;
      expect(asked.err.includes('NodeVersionSupportWarning'), asked.err).toBe(sdkWarns);
    } finally {
      await s3.stop();
      await removeDir(repo);
    }
  });

  it('plain output on CI: no colour codes, progress lines on stderr, results on stdout', async () => {
    const repo = await makeRepo({ 'a.png': bytes(2000, 'a'), 'index.js': 'x\n' });
    try {
      const r = await runBin(bin, ['analyze'], repo);
      expect(r.code).toBe(EXIT.OK);
      expect(r.out + r.err).not.toContain('\u001b[');
      expect(r.out).toContain('2 file(s)');
      expect(r.err).toContain('compressing: 2 file(s)');
      const json = await runBin(bin, ['analyze', '--json'], repo);
      expect(JSON.parse(json.out).slug.files).toBe(2);
      expect(json.err).toBe('');
    } finally {
      await removeDir(repo);
    }
  });
});
