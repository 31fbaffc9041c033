import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sweepStaged } from '../../src/express/direct-upload/sweep.js';
import { collect, randomData, sha256, unknownLength } from '../helpers/streams.js';
import { describeEachS3Server } from './harness.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** Finds the aws CLI; the test fails (not skips) without it: `apt-get install -y awscli`. */
async function awsVersion(): Promise<string> {
  const { stdout, stderr } = await run('aws', ['--version'], { env: { PATH: process.env.PATH ?? '' } });
  return (stdout || stderr).trim();
}

describeEachS3Server('interop with the aws CLI (a client nobody here wrote)', { partSize: 5 * MiB }, (s3) => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    console.log(`[awscli interop] ${await awsVersion()}`);
    const server = s3.server;
    dir = await mkdtemp(join(tmpdir(), 'stowage-awscli-'));
    const config = join(dir, 'config');
    // Path-style addressing for the loopback server; checksums only when required,
    // as for any non-AWS endpoint (s3rver would store aws-chunked framing as data).
    // The credentials are the server's: moto verifies the CLI's signatures with them.
    await writeFile(
      config,
      '[default]\nregion = us-east-1\nrequest_checksum_calculation = when_required\nresponse_checksum_validation = when_required\ns3 =\n  addressing_style = path\n',
    );
    // Explicit, minimal environment: nothing of the shell's AWS_* settings leaks in.
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_DEFAULT_REGION: server.region,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    };
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const aws = (...args: string[]) =>
    run('aws', ['--endpoint-url', s3.server.endpoint, ...args], { env, maxBuffer: 1 << 20 });

  it('reads intact, with aws s3 cp, an object stowage wrote in several parts', async () => {
    const data = randomData(11 * MiB + 321);
    await s3.storage.put('interop/from-stowage.bin', unknownLength(data), {
      contentType: 'application/x-interop',
    });
    const out = join(dir, 'from-stowage.bin');
    await aws('s3', 'cp', `s3://${s3.server.bucket}/interop/from-stowage.bin`, out);
    const back = await readFile(out);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
  });

  it('reads intact, with stowage, an object aws s3 cp wrote (multipart above its 8 MB threshold)', async () => {
    const data = randomData(9 * MiB + 17);
    const file = join(dir, 'to-stowage.bin');
    await writeFile(file, data);
    await aws('s3', 'cp', file, `s3://${s3.server.bucket}/interop/from aws+cli.bin`);
    const { body, info } = await s3.storage.get('interop/from aws+cli.bin');
    const back = await collect(body);
    expect(info.size).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    const listed: string[] = [];
    for await (const entry of s3.storage.list('interop/')) listed.push(entry.key);
    expect(listed).toEqual(['interop/from aws+cli.bin', 'interop/from-stowage.bin']);
  });

  it('lists with aws s3 ls what stowage wrote, odd names and sizes as stored', async () => {
    await s3.storage.put('listed/a b+c&d.txt', 'twelve bytes');
    await s3.storage.put('listed/sub/ü.txt', 'x');
    const { stdout } = await aws('s3', 'ls', '--recursive', `s3://${s3.server.bucket}/listed/`);
    // "2024-01-01 12:00:00         12 listed/a b+c&d.txt": size and key after the date.
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => /^\S+ \S+ +(\d+) (.*)$/.exec(line)?.slice(1));
    expect(rows).toEqual([
      ['12', 'listed/a b+c&d.txt'],
      ['1', 'listed/sub/ü.txt'],
    ]);
  });

  it('sees the multipart uploads the CLI started, and none after sweepStaged() aborts them', async () => {
    const bucket = s3.server.bucket;
    const listed = async (): Promise<string[]> => {
      const { stdout } = await aws(
        's3api',
        'list-multipart-uploads',
        '--bucket',
        bucket,
        '--prefix',
        '.staging/',
      );
      return ((stdout.trim() ? JSON.parse(stdout).Uploads : undefined) ?? []).map(
        (u: { Key: string }) => u.Key,
      );
    };
    for (const key of ['.staging/cli-a.bin', '.staging/cli-b.bin'])
      await aws('s3api', 'create-multipart-upload', '--bucket', bucket, '--key', key);
    expect((await listed()).sort()).toEqual(['.staging/cli-a.bin', '.staging/cli-b.bin']);
    const report = await sweepStaged(s3.storage, {
      olderThanHours: 24,
      now: new Date(Date.now() + 25 * 3_600_000),
    });
    expect(report.abortedUploads?.map((u) => u.key).sort()).toEqual([
      '.staging/cli-a.bin',
      '.staging/cli-b.bin',
    ]);
    expect(await listed()).toEqual([]);
  });

  s3.it(
    'signatureChecks',
    'the CLI with a wrong secret is refused (SignatureDoesNotMatch) and writes nothing',
    async () => {
      const file = join(dir, 'forged.txt');
      await writeFile(file, 'forged');
      const forgedEnv = { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' };
      const forged = (...args: string[]) =>
        run('aws', ['--endpoint-url', s3.server.endpoint, ...args], { env: forgedEnv }).then(
          () => '',
          (err: { stderr?: string }) => err.stderr ?? String(err),
        );
      expect(await forged('s3', 'cp', file, `s3://${s3.server.bucket}/forged/by-cli.txt`)).toContain(
        'SignatureDoesNotMatch',
      );
      expect(await forged('s3', 'ls', `s3://${s3.server.bucket}/`)).toContain('SignatureDoesNotMatch');
      expect(await s3.storage.exists('forged/by-cli.txt')).toBe(false);
    },
  );
});
