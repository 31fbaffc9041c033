import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO, useS3Server } from '../s3/harness.js';
import { codeBlocks, readmeSection } from './readme-snippets.js';

const run = promisify(execFile);

describe("README's lifecycle rule for the staging prefix, applied with the aws CLI (moto)", () => {
  const s3 = useS3Server({}, MOTO);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-lifecycle-'));
    const config = join(dir, 'config');
    await writeFile(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    // Explicit, minimal environment: nothing of the shell's AWS_* settings leaks in.
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AWS_ACCESS_KEY_ID: s3.server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.server.secretAccessKey,
      AWS_DEFAULT_REGION: s3.server.region,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    };
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is accepted as written: abort + expiration on .staging/, and a bucket-wide abort-only rule', async () => {
    const section = readmeSection('Cleaning up abandoned uploads');
    const [json] = codeBlocks(section, ['json']);
    const file = join(dir, 'lifecycle.json');
    await writeFile(file, json!);
    // The commands as the README gives them, pointed at the test server.
    const commands = codeBlocks(section, ['sh'])[0]!
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toHaveLength(2);
    const aws = (line: string) => {
      const args = line
        .split(/\s+/)
        .slice(1)
        .map((a) =>
          a.replace('my-bucket', s3.server.bucket).replace('file://lifecycle.json', `file://${file}`),
        );
      return run('aws', ['--endpoint-url', s3.server.endpoint, ...args], { env });
    };
    // Before any rule, get answers NoSuchLifecycleConfiguration: the README's "keep existing rules" step.
    await expect(aws(commands[0]!)).rejects.toThrow(/NoSuchLifecycleConfiguration/);
    await aws(commands[1]!);
    const { stdout } = await aws(commands[0]!);
    const [staging, everywhere, ...others] = JSON.parse(stdout).Rules;
    expect(others).toEqual([]);
    expect(staging).toMatchObject({
      ID: 'stowage-staging',
      Status: 'Enabled',
      Filter: { Prefix: '.staging/' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      Expiration: { Days: 2 },
    });
    // Multipart uploads a killed put() leaves under final keys: every key, and no Expiration,
    // which there would delete stored files.
    expect(everywhere).toEqual({
      ID: 'stowage-unfinished-multipart',
      Status: 'Enabled',
      Filter: {},
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
  });
});
