/**
 * An optional SDK that is not installed, for real: the built package in a
 * temp project whose node_modules holds stowage's own dependencies and no
 * peer (then only @aws-sdk/client-s3). Every way in — `import 'stowage/s3'`,
 * createStorage() with an s3:// or cloudinary:// URL, the CLI — fails with
 * one StowageError naming the exact `npm install`, before any work.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, git, writeFiles } from '../cli/helpers.js';
import { buildLibrary } from './build-lib.js';
import { installProduction } from './install.js';

const execFileP = promisify(execFile);
const S3_INSTALL = 'npm install @aws-sdk/client-s3 @aws-sdk/s3-request-presigner @aws-sdk/s3-presigned-post';

let work: string;
/** stowage and its dependencies, no optional peer. */
let bare: string;
/** …plus @aws-sdk/client-s3 alone. */
let partial: string;
let repo: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-missing-sdk-'));
  const stowageDir = await buildLibrary(join(work, 'lib'));
  bare = join(work, 'bare');
  partial = join(work, 'partial');
  await installProduction(bare, stowageDir, []);
  await installProduction(partial, stowageDir, ['@aws-sdk/client-s3']);
  repo = join(work, 'repo');
  await writeFiles(repo, { 'models/m.onnx': bytes(100_000, 'missing sdk'), 'index.js': 'run();\n' });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-q', '-m', 'app');
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const env = () => ({
  PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  HOME: work,
  STOWAGE_EPHEMERAL_OK: '1',
});

/** Runs an ES module in `app`; it prints what it caught as JSON. */
async function script(app: string, body: string): Promise<Record<string, unknown>> {
  const source = `
    const report = (value) => console.log(JSON.stringify(value));
    const caught = (e) => ({ name: e.name, code: e.code, message: e.message });
    ${body}`;
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', source], {
    cwd: app,
    env: env(),
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

async function cli(app: string, cwd: string, args: string[]): Promise<{ code: number; err: string }> {
  const bin = join(app, 'node_modules/stowage/dist/src/cli/bin.js');
  try {
    const { stderr } = await execFileP(process.execPath, [bin, ...args], { cwd, env: env() });
    return { code: 0, err: stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, err: e.stderr };
  }
}

describe('without the AWS SDK or cloudinary installed', () => {
  it("import 'stowage/s3' is one StowageError naming the three S3 packages", async () => {
    const r = await script(
      bare,
      `const { StowageError } = await import('stowage');
       try { await import('stowage/s3'); report({ loaded: true }); }
       catch (e) { report({ ...caught(e), isStowage: e instanceof StowageError }); }`,
    );
    expect(r).toEqual({
      name: 'StowageError',
      code: 'NOT_SUPPORTED',
      isStowage: true,
      message: `stowage/s3 (s3:// storage) needs @aws-sdk/client-s3, @aws-sdk/s3-request-presigner and @aws-sdk/s3-presigned-post, which are not installed: ${S3_INSTALL}`,
    });
  });

  it("require('stowage/s3') and require('stowage/cloudinary') from CommonJS say the same", async () => {
    const source = `
      const { StowageError } = require('stowage');
      const out = {};
      for (const entry of ['stowage/s3', 'stowage/cloudinary']) {
        try { require(entry); out[entry] = 'loaded'; }
        catch (e) { out[entry] = { code: e.code, isStowage: e instanceof StowageError, message: e.message }; }
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await execFileP(process.execPath, ['-e', source], { cwd: bare, env: env() });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      'stowage/s3': {
        code: 'NOT_SUPPORTED',
        isStowage: true,
        message: `stowage/s3 (s3:// storage) needs @aws-sdk/client-s3, @aws-sdk/s3-request-presigner and @aws-sdk/s3-presigned-post, which are not installed: ${S3_INSTALL}`,
      },
      'stowage/cloudinary': {
        code: 'NOT_SUPPORTED',
        isStowage: true,
        message: expect.stringContaining('npm install cloudinary'),
      },
    });
  });

  it('createStorage() with s3:// or cloudinary:// says what to install; other adapters still work', async () => {
    const r = await script(
      bare,
      `const { createStorage } = await import('stowage');
       const out = {};
       for (const url of ['s3://AKID:secret@bucket/x', 'cloudinary://1:secret@demo']) {
         try { await createStorage(url); out[url] = 'loaded'; } catch (e) { out[url] = caught(e); }
       }
       try { await import('stowage/cloudinary'); } catch (e) { out.cloudinaryEntry = caught(e).message; }
       const memory = await createStorage('memory://');
       await memory.put('a.txt', 'x');
       out.memory = await memory.exists('a.txt');
       report(out);`,
    );
    expect(r['s3://AKID:secret@bucket/x']).toMatchObject({
      code: 'NOT_SUPPORTED',
      message: expect.stringContaining(S3_INSTALL),
    });
    const cloudinary =
      'stowage/cloudinary (cloudinary:// storage) needs cloudinary, which is not installed: npm install cloudinary';
    expect(r['cloudinary://1:secret@demo']).toEqual({
      name: 'StowageError',
      code: 'NOT_SUPPORTED',
      message: cloudinary,
    });
    expect(r.cloudinaryEntry).toBe(cloudinary);
    expect(r.memory).toBe(true);
  });

  it('the CLI: migrate-assets and pull exit 3 with that message, before hashing anything', async () => {
    const to = 's3://AKID:secret@bucket/assets?region=us-east-1&endpoint=http://127.0.0.1:9';
    const migrate = await cli(bare, repo, ['migrate-assets', '--to', to]);
    expect(migrate.code, migrate.err).toBe(3);
    expect(migrate.err).toContain(S3_INSTALL);
    expect(migrate.err).not.toContain('hashing');
    expect(migrate.err).not.toContain('Cannot find package');

    await writeFile(
      join(repo, 'stowage.lock.json'),
      JSON.stringify({ version: 1, storage: 's3://bucket/assets?region=us-east-1', files: [] }),
    );
    const pull = await cli(bare, repo, ['pull']);
    expect(pull.code, pull.err).toBe(3);
    expect(pull.err).toContain(S3_INSTALL);
    await rm(join(repo, 'stowage.lock.json'));
  });
});

describe('with @aws-sdk/client-s3 but not the presigners', () => {
  it('S3Storage loads; signing names only the package it lacks', async () => {
    const r = await script(
      partial,
      `const { S3Storage } = await import('stowage/s3');
       const s = new S3Storage({ bucket: 'b', region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
       const out = { unsigned: await s.url('a.txt') };
       try { await s.url('a.txt', { expiresIn: 60 }); } catch (e) { out.signed = caught(e); }
       try { await s.presignUpload('a.txt', { maxSize: 10 }); } catch (e) { out.post = caught(e); }
       report(out);`,
    );
    expect(r.unsigned).toBe('https://b.s3.us-east-1.amazonaws.com/a.txt');
    expect(r.signed).toEqual({
      name: 'StowageError',
      code: 'NOT_SUPPORTED',
      message:
        'S3 signed URLs (url() with expiresIn or download) needs @aws-sdk/s3-request-presigner, which is not installed: npm install @aws-sdk/s3-request-presigner',
    });
    expect(r.post).toMatchObject({
      code: 'NOT_SUPPORTED',
      message: expect.stringContaining('npm install @aws-sdk/s3-presigned-post'),
    });
  });
});
