import { type ChildProcess, spawn } from 'node:child_process';
import { DeleteBucketCorsCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetForEndpoint } from '../../src/cli/doctor.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { describeEachS3Server } from '../s3/harness.js';
import { startFaultProxy } from '../servers/fault-proxy.js';
import { type Bins, buildBins } from './bins.js';
import { removeDir, tempDir } from './helpers.js';

let bins: Bins;
beforeAll(async () => {
  bins = await buildBins();
});
afterAll(async () => {
  await bins?.remove();
});

interface Row {
  name: string;
  result: 'ok' | 'FAIL' | 'skip';
  detail: string;
}

/** The real bin, with a clean environment: no inherited AWS_* or STOWAGE_URL. */
function doctor(
  args: string[],
  started?: (child: ChildProcess) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [bins.stowage, 'doctor', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started?.(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, out, err })));
}

function results(json: string): Record<string, Row['result']> {
  const parsed = JSON.parse(json) as { checks: Row[] };
  return Object.fromEntries(parsed.checks.map((c) => [c.name, c.result]));
}

const BASICS = ['credentials', 'bucket exists', 'put', 'get', 'range get', 'head', 'list', 'copy', 'delete'];

describe('doctor recommends the preset of a known endpoint', () => {
  it('names r2, b2 and spaces by host, nothing for others', () => {
    expect(presetForEndpoint('https://abc123.r2.cloudflarestorage.com')).toBe('r2');
    expect(presetForEndpoint('https://s3.us-west-004.backblazeb2.com')).toBe('b2');
    expect(presetForEndpoint('https://nyc3.digitaloceanspaces.com')).toBe('spaces');
    expect(presetForEndpoint('http://127.0.0.1:9000')).toBeUndefined();
    expect(presetForEndpoint(undefined)).toBeUndefined();
  });
});

describe('stowage doctor on file:', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('doctor');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('passes the basic rows, says the presign rows are not supported, leaves nothing behind', async () => {
    const r = await doctor([`file:${dir}`, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.OK);
    const rows = results(r.out);
    for (const name of BASICS) expect(rows[name], name).toBe('ok');
    expect(rows['multipart upload']).toBe('skip');
    expect(rows['presigned POST']).toBe('skip');
    expect(rows.cleanup).toBe('ok');
    const { readdir } = await import('node:fs/promises');
    const left = await readdir(dir, { recursive: true });
    expect(left.filter((p) => !p.startsWith('stowage-doctor') || p.split('/').length > 1)).toEqual([]);
  });

  it('memory:// gets the same rows', async () => {
    const r = await doctor(['memory://', '--json']);
    expect(r.code).toBe(EXIT.OK);
    const rows = results(r.out);
    for (const name of BASICS) expect(rows[name], name).toBe('ok');
    expect(rows['presigned GET']).toBe('skip');
    expect(rows['list multipart uploads']).toBe('skip');
    expect(rows.cleanup).toBe('ok');
  });

  it('prints a table and its help', async () => {
    const r = await doctor([`file:${dir}`]);
    if (r.code !== 0) console.log(r.out, r.err);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toMatch(/^ {2}range get +ok +bytes 2-5 match$/m);
    expect(r.out).toContain('doctor: all checks passed');
    const help = await doctor(['--help']);
    expect(help.code).toBe(EXIT.OK);
    expect(help.out).toContain('--origin <origin>');
  });

  it('without a URL argument it probes STOWAGE_URL', async () => {
    const r = await doctor(['--json'], undefined, { STOWAGE_URL: `file:${dir}` });
    expect(r.code).toBe(EXIT.OK);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, adapter: 'local', storage: `file:${dir}` });
  });

  it('no storage configured is a usage error', async () => {
    expect((await doctor([])).code).toBe(EXIT.USAGE);
  });
});

describeEachS3Server('stowage doctor against S3', {}, (s3) => {
  const query = () =>
    `region=${s3.server.region}&endpoint=${encodeURIComponent(s3.server.endpoint)}&forcePathStyle=true`;
  const urlWith = (key: string, secret: string, bucket = s3.server.bucket) =>
    `s3://${key}:${encodeURIComponent(secret)}@${bucket}/app?${query()}`;

  it('passes every row it can, reports what the server lacks, and leaves nothing under the scratch prefix', async () => {
    const r = await doctor([urlWith(s3.server.accessKeyId, s3.server.secretAccessKey), '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.OK);
    const rows = results(r.out);
    for (const name of [
      ...BASICS,
      'multipart upload',
      'presigned GET',
      'presigned POST',
      'put with sha256',
      'checksum headers',
    ])
      expect(rows[name], name).toBe('ok');
    expect(rows['presigned PUT']).toBe('skip');
    expect(rows.CORS).toBe('skip');
    // What sweep uses: both list them (s3rver through the child's emulation).
    expect(rows['list multipart uploads']).toBe('ok');
    // s3rver stores the SDK's aws-chunked framing as data; the configured WHEN_REQUIRED avoids it.
    const parsed = JSON.parse(r.out) as { checks: Row[]; recommendations: string[] };
    const checksum = parsed.checks.find((c) => c.name === 'checksum headers')?.detail;
    if (s3.kind.name === 's3rver') {
      expect(checksum).toMatch(/kept the aws-chunked framing.*WHEN_REQUIRED, as configured, sends none/);
      expect(parsed.recommendations).toEqual(['checksums WHEN_REQUIRED']);
    } else {
      expect(checksum).toBe('CRC32 checksum headers accepted (configured: WHEN_REQUIRED)');
      expect(parsed.recommendations).toEqual([]);
    }
    expect(rows.cleanup).toBe('ok');
    expect(r.out).not.toContain(s3.server.secretAccessKey);
    const left: string[] = [];
    for await (const info of s3.storage.list('app/stowage-doctor/')) left.push(info.key);
    expect(left).toEqual([]);
  });

  it('--origin: the bucket has no CORS rule, so both preflights FAIL (exit 1) and it says what to add', async () => {
    const r = await doctor([
      urlWith(s3.server.accessKeyId, s3.server.secretAccessKey),
      '--origin',
      'https://app.example',
    ]);
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.out).toMatch(
      /^ {2}CORS POST +FAIL +preflight from https:\/\/app\.example refused .*add a CORS rule/m,
    );
    expect(r.out).toMatch(/^ {2}CORS PUT +FAIL /m);
    expect(r.out).toMatch(/^ {2}cleanup +ok /m);
    expect(r.out).toContain('doctor: 2 check(s) failed');
  });

  it('preset=r2: no POST uploads, and it recommends presigned PUT', async () => {
    const r = await doctor([
      `${urlWith(s3.server.accessKeyId, s3.server.secretAccessKey)}&preset=r2`,
      '--json',
    ]);
    const parsed = JSON.parse(r.out) as { checks: Row[]; recommendations: string[] };
    expect(parsed.checks.find((c) => c.name === 'presigned POST')?.result).toBe('skip');
    expect(parsed.recommendations).toContain('this store takes no POST: use presigned PUT');
  });

  // A preflight is an unsigned request, which moto (authentication on) refuses like an anonymous read.
  s3.it('anonymousReads', '--origin with a CORS rule on the bucket: both preflights pass', async () => {
    await s3.storage.client.send(
      new PutBucketCorsCommand({
        Bucket: s3.server.bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example'],
              AllowedMethods: ['POST', 'PUT'],
              AllowedHeaders: ['*'],
            },
          ],
        },
      }),
    );
    try {
      const r = await doctor([
        urlWith(s3.server.accessKeyId, s3.server.secretAccessKey),
        '--origin',
        'https://app.example',
      ]);
      expect(r.out).toMatch(/^ {2}CORS POST +ok +allowed for https:\/\/app\.example$/m);
      expect(r.out).toMatch(/^ {2}CORS PUT +ok /m);
      expect(r.code).toBe(EXIT.OK);
    } finally {
      await s3.storage.client.send(new DeleteBucketCorsCommand({ Bucket: s3.server.bucket }));
    }
  });

  if (s3.kind.gaps.signatureChecks) {
    it('a wrong secret: this server checks only POST policy signatures, and the table says just that', async () => {
      const r = await doctor([urlWith(s3.server.accessKeyId, 'not-the-secret'), '--json']);
      expect(r.code).toBe(EXIT.FAILURE);
      const checks = (JSON.parse(r.out) as { checks: Row[] }).checks;
      expect(checks.filter((c) => c.result === 'FAIL')).toEqual([
        { name: 'presigned POST', result: 'FAIL', detail: 'HTTP 403 SignatureDoesNotMatch' },
      ]);
      expect(results(r.out).credentials).toBe('ok');
      expect(results(r.out).cleanup).toBe('ok');
      // A refused signature is no sign that the store lacks POST uploads.
      expect(JSON.parse(r.out).recommendations).toEqual(['checksums WHEN_REQUIRED']);
    });
  }

  s3.it('signatureChecks', 'wrong credentials exit 3', async () => {
    const r = await doctor([urlWith(s3.server.accessKeyId, 'not-the-secret')]);
    expect(r.code).toBe(EXIT.STORAGE);
    expect(r.err).not.toContain('not-the-secret');
  });

  const ctrlC = 'Ctrl-C mid-probe: exit 130, and the scratch prefix is emptied all the same';
  // The fault proxy forwards to another host:port than the client signed for; moto checks signatures.
  if (s3.kind.name === 'moto')
    console.log(`[moto] a signed request cannot pass the fault proxy: "${ctrlC}" runs on s3rver`);
  else
    it(ctrlC, async () => {
      let child: ChildProcess | undefined;
      // The first plain GET of the probe object stalls until the child is interrupted.
      const proxy = await startFaultProxy(s3.server.endpoint, {
        fault: (_n, req) => {
          if (req.method !== 'GET' || !req.url?.includes('probe.txt') || req.headers.range) return undefined;
          if (!child || child.killed) return undefined;
          child.kill('SIGINT');
          return { stallAfter: 0 };
        },
      });
      try {
        const query = `region=${s3.server.region}&endpoint=${encodeURIComponent(proxy.url)}&forcePathStyle=true`;
        const url = `s3://${s3.server.accessKeyId}:${encodeURIComponent(s3.server.secretAccessKey)}@${s3.server.bucket}/app?${query}`;
        const r = await doctor([url, '--json'], (c) => {
          child = c;
        });
        expect(r.code).toBe(EXIT.INTERRUPTED);
        const rows = results(r.out);
        expect(rows.get).toBe('FAIL');
        expect(rows['multipart upload']).toBe('skip');
        expect(rows.cleanup).toBe('ok');
        const left: string[] = [];
        for await (const info of s3.storage.list('app/stowage-doctor/')) left.push(info.key);
        expect(left).toEqual([]);
      } finally {
        await proxy.stop();
      }
    });

  it('a missing bucket exits 3', async () => {
    const r = await doctor([urlWith(s3.server.accessKeyId, s3.server.secretAccessKey, 'no-such-bucket')]);
    expect(r.code).toBe(EXIT.STORAGE);
    expect(r.err).toContain('bucket does not exist');
  });
});
