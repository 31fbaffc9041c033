/**
 * README "Deploying to Heroku", word for word, against the S3 test server
 * that verifies signatures (moto):
 * step 1 sets STOWAGE_URL with credentials, step 2 runs `stowage analyze`,
 * `stowage migrate-assets --dry-run` and `stowage migrate-assets 'models/**'`
 * (the lock file records the URL without credentials), step 3 boots a dyno
 * whose environment holds only STOWAGE_URL and restores the files with
 * loadArtifacts(), with artifacts() behind its middleware, with `stowage pull`,
 * and checks them with `stowage verify`. No AWS_* variable and no ~/.aws:
 * the credentials must come from STOWAGE_URL, or the SDK finds none.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, git, sha256, writeFiles } from '../cli/helpers.js';
import { startMotoServer } from '../servers/moto-server.js';
import type { S3TestServer } from '../servers/s3-server.js';
import { buildLibrary } from './build-lib.js';
import { bootDyno, type Dyno } from './dyno.js';
import { installProduction } from './install.js';

const execFileP = promisify(execFile);
const MODEL = bytes(300_000, 'heroku readme model');
const VOCAB = bytes(40_000, 'heroku readme vocab');

const SERVER = `
import express from 'express';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { artifacts } from 'stowage';

const app = express();
const weights = artifacts();          // reads stowage.lock.json
app.use(weights.middleware());        // holds requests until verified (≤ 25 s), else 503 + Retry-After
app.get('/model', async (req, res) => {
  res.send(createHash('sha256').update(await readFile('models/m.onnx')).digest('hex'));
});
app.listen(process.env.PORT);         // bound at once: no R10
`;

describe('README "Deploying to Heroku" with credentials only in STOWAGE_URL', () => {
  let s3: S3TestServer;
  let work: string;
  let app: string;
  let bin: string;
  let stowageUrl: string;
  let userinfo: string;
  /** The whole environment of the developer's machine and of the dyno, besides PATH and HOME. */
  let config: Record<string, string>;
  const dynos: Dyno[] = [];

  beforeAll(async () => {
    // moto checks every SigV4 signature: the lent credentials must be the right ones, not just present.
    s3 = await startMotoServer();
    work = await mkdtemp(join(tmpdir(), 'stowage-heroku-readme-'));
    app = join(work, 'app');
    const query = `region=${s3.region}&endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true`;
    // Percent-encoded, as README says: moto's generated secrets may hold '/' or '+'.
    userinfo = `${encodeURIComponent(s3.accessKeyId)}:${encodeURIComponent(s3.secretAccessKey)}`;
    stowageUrl = `s3://${userinfo}@${s3.bucket}/assets?${query}`;
    config = {
      STOWAGE_URL: stowageUrl,
      // Keep the SDK away from any credentials of this machine: its shared files and instance metadata.
      AWS_CONFIG_FILE: join(work, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    await writeFiles(app, {
      '.gitignore': 'node_modules\n',
      'models/m.onnx': MODEL,
      'models/vocab.bin': VOCAB,
      'server.mjs': SERVER,
      'package.json': JSON.stringify({ name: 'app', type: 'module', private: true }),
    });
    git(app, 'init', '-q', '-b', 'main');
    git(app, 'config', 'user.email', 'test@example.com');
    git(app, 'config', 'user.name', 'Stowage Test');
    git(app, 'config', 'commit.gpgsign', 'false');
    git(app, 'add', '-A');
    git(app, 'commit', '-q', '-m', 'app');
    const stowageDir = await buildLibrary(join(work, 'lib'));
    await installProduction(app, stowageDir, [
      'express',
      '@aws-sdk/client-s3',
      '@aws-sdk/s3-presigned-post',
      '@aws-sdk/s3-request-presigner',
    ]);
    bin = join(app, 'node_modules/stowage/dist/src/cli/bin.js');
  }, 120_000);

  afterAll(async () => {
    for (const dyno of dynos) await dyno.kill();
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Nothing but PATH, HOME (without ~/.aws) and the config vars. */
  const environment = () => ({ PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: work, ...config });

  async function node(args: string[]): Promise<{ code: number; out: string; err: string }> {
    try {
      const { stdout, stderr } = await execFileP(process.execPath, args, { cwd: app, env: environment() });
      return { code: 0, out: stdout, err: stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout, err: e.stderr };
    }
  }
  const stowage = (...args: string[]) => node([bin, ...args]);

  /** A fresh dyno's disk: the moved files and the loader cache are gone. */
  async function wipe(): Promise<void> {
    await rm(join(app, 'models'), { recursive: true, force: true });
    await rm(join(app, 'node_modules/.cache'), { recursive: true, force: true });
  }
  async function expectRestored(): Promise<void> {
    expect(sha256(await readFile(join(app, 'models/m.onnx')))).toBe(sha256(MODEL));
    expect(sha256(await readFile(join(app, 'models/vocab.bin')))).toBe(sha256(VOCAB));
  }
  /** GETs of the moved objects the server saw since the last clearRequests(). */
  const downloads = async () =>
    (await s3.requests()).filter((r) => r.method === 'GET' && r.path.startsWith(`/${s3.bucket}/assets/`))
      .length;

  it('step 2: analyze, the dry run and migrate-assets record a lock file without credentials', async () => {
    const analyze = await stowage('analyze');
    expect(analyze.code, analyze.err).toBe(0);
    const dry = await stowage('migrate-assets', '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    const migrate = await stowage('migrate-assets', 'models/**');
    expect(migrate.code, migrate.err).toBe(0);
    expect(migrate.out + migrate.err).not.toContain(s3.secretAccessKey);
    expect(migrate.out + migrate.err).not.toContain(encodeURIComponent(s3.secretAccessKey));
    const lock = JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8'));
    expect(lock.storage).toBe(stowageUrl.replace(`${userinfo}@`, ''));
    expect(lock.files.map((f: { path: string }) => f.path)).toEqual(['models/m.onnx', 'models/vocab.bin']);
    expect(await readFile(join(app, '.slugignore'), 'utf8')).toContain('models/m.onnx');
    git(app, 'add', 'stowage.lock.json', '.slugignore');
    git(app, 'commit', '-q', '-m', 'weights in object storage');
  });

  it('step 3: loadArtifacts() restores the files with the credentials of STOWAGE_URL', async () => {
    await wipe();
    await s3.clearRequests();
    const r = await node([
      '--input-type=module',
      '-e',
      "import { loadArtifacts } from 'stowage'; const files = await loadArtifacts(); console.log('restored=' + files.length);",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('restored=2');
    await expectRestored();
    expect(await downloads()).toBeGreaterThanOrEqual(2);

    // loadModel() of one of the lock's objects, by its s3:// URL without credentials: lent the same way.
    const lock = JSON.parse(await readFile(join(app, 'stowage.lock.json'), 'utf8'));
    const entry = lock.files.find((f: { path: string }) => f.path === 'models/m.onnx');
    const source = lock.storage.replace('/assets?', `/assets/${entry.key}?`);
    const model = await node([
      '--input-type=module',
      '-e',
      `import { loadModel } from 'stowage'; import { readFileSync } from 'node:fs'; import { createHash } from 'node:crypto';
       const path = await loadModel(${JSON.stringify(source)}, { sha256: ${JSON.stringify(entry.sha256)}, cacheDir: 'model-cache' });
       console.log('model=' + createHash('sha256').update(readFileSync(path)).digest('hex'));`,
    ]);
    expect(model.code, model.err).toBe(0);
    expect(model.out).toContain(`model=${sha256(MODEL)}`);
  });

  it('step 3: artifacts() behind its middleware serves once the files are in place', async () => {
    await wipe();
    await s3.clearRequests();
    await writeFile(join(app, 'server.mjs'), SERVER);
    const dyno = await bootDyno(app, config, 'node server.mjs');
    dynos.push(dyno);
    await dyno.bound();
    let answer: { status: number; body: string } | undefined;
    for (let i = 0; i < 1500; i++) {
      const res = await fetch(`${dyno.url}/model`);
      answer = { status: res.status, body: await res.text() };
      if (res.status !== 503 || /"state":"failed"/.test(answer.body)) break;
      expect(res.headers.get('retry-after')).toBeTruthy();
      await sleep(20);
    }
    expect(answer, dyno.logs()).toEqual({ status: 200, body: sha256(MODEL) });
    await expectRestored();
    expect(await downloads()).toBeGreaterThanOrEqual(2);
    await dyno.kill();
  });

  it('`stowage pull` restores them and `stowage verify` checks them, exit 0', async () => {
    await wipe();
    await s3.clearRequests();
    const pull = await stowage('pull');
    expect(pull.code, pull.err).toBe(0);
    expect(pull.out).toContain('Restored 2 file(s)');
    await expectRestored();
    expect(await downloads()).toBeGreaterThanOrEqual(2);
    const verify = await stowage('verify');
    expect(verify.code, verify.err).toBe(0);
    expect(verify.out).toContain('All 2 file(s) verified.');
    for (const secret of [s3.secretAccessKey, encodeURIComponent(s3.secretAccessKey)])
      expect(pull.out + pull.err + verify.out + verify.err).not.toContain(secret);
  });

  it('without any credentials: ACCESS_DENIED naming where they are read from, exit 3, never INTERNAL', async () => {
    await wipe();
    const stowageUrl = config.STOWAGE_URL;
    delete config.STOWAGE_URL;
    try {
      const load = await node([
        '--input-type=module',
        '-e',
        "import { loadArtifacts } from 'stowage'; try { await loadArtifacts(); } catch (e) { console.log('code=' + e.code); console.log(e.message); }",
      ]);
      expect(load.out).toContain('code=ACCESS_DENIED');
      expect(load.out).toContain('no credentials found');
      expect(load.out).toContain('STOWAGE_URL naming the same bucket');
      for (const command of ['pull', 'verify']) {
        const r = await stowage(command);
        expect(r.code, `${command}: ${r.err}`).toBe(3);
        expect(r.err).toContain('[ACCESS_DENIED]');
        expect(r.err).toContain("the URL's user:password");
        expect(r.err).toContain('AWS_ACCESS_KEY_ID');
        expect(r.err).not.toContain('INTERNAL');
      }
    } finally {
      config.STOWAGE_URL = stowageUrl as string;
    }
  });
});
