import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, expectCode } from '../helpers/streams.js';
import { motoLaunch, startMotoServer } from '../servers/moto-server.js';
import type { S3TestServer } from '../servers/s3-server.js';
import { storageOn } from './harness.js';

/** A client whose request body is swapped after it was signed, as a corrupting hop would. */
function tamperingClient(server: S3TestServer): S3Client {
  const client = new S3Client({
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  const tamper = (next: (args: object) => Promise<unknown>) => (args: { request: { body?: unknown } }) => {
    args.request.body = 'HELLO';
    return next(args);
  };
  client.middlewareStack.addRelativeTo(tamper as never, {
    relation: 'after',
    toMiddleware: 'awsAuthMiddleware',
    name: 'tamperAfterSigning',
  });
  return client;
}

/** Running, and not a zombie (a reparented child may wait unreaped in a container). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
}

/**
 * What the launcher (test/servers/moto-server.py) repairs in stock moto, each
 * shown failing on stock moto and passing on the launcher's server.
 */
describe('moto launcher patches, against stock moto', () => {
  let stock: S3TestServer;
  let moto: S3TestServer;
  beforeAll(async () => {
    [stock, moto] = await Promise.all([startMotoServer({ stock: true }), startMotoServer()]);
  });
  afterAll(async () => {
    await Promise.all([stock?.stop(), moto?.stop()]);
  });

  it('keys with "+ & ; = %" and listings by a prefix with a space: refused by stock moto, accepted as S3 does', async () => {
    const key = 'symbols/a+b&c;d=e%f.txt';
    const onStock = storageOn(stock, { prefix: 'with space' });
    const err = await expectCode(onStock.put(key, 'x'), 'ACCESS_DENIED');
    expect((err.cause as { name?: string }).name).toBe('SignatureDoesNotMatch');
    await onStock.put('plain.txt', 'plain');
    await expectCode(async () => {
      for await (const _ of onStock.list('')) void _;
    }, 'ACCESS_DENIED');

    const onMoto = storageOn(moto, { prefix: 'with space' });
    await onMoto.put(key, 'x');
    expect((await collect((await onMoto.get(key)).body)).toString()).toBe('x');
    const listed: string[] = [];
    for await (const info of onMoto.list('')) listed.push(info.key);
    expect(listed).toEqual([key]);
  });

  it('presigned GETs: a 500 from stock moto, verified and served as S3 does (with response-content-disposition)', async () => {
    await storageOn(stock).put('doc.txt', 'doc');
    const fromStock = await fetch(await storageOn(stock).url('doc.txt', { expiresIn: 60 }));
    expect(fromStock.status).toBe(500);
    await fromStock.arrayBuffer();

    await storageOn(moto).put('doc.txt', 'doc');
    const res = await fetch(await storageOn(moto).url('doc.txt', { expiresIn: 60, download: 'd.txt' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="d.txt"/);
    expect(await res.text()).toBe('doc');
  });

  it('a browser POST form: a 500 from stock moto, its policy signature checked by the launcher', async () => {
    const post = async (server: S3TestServer, secret: string) => {
      const upload = await storageOn(server, {
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: secret },
      }).presignUpload('posted.txt', { maxSize: 100 });
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append(upload.fileField, new Blob(['posted']), 'posted.txt');
      const res = await fetch(upload.url, { method: 'POST', body: form });
      return { status: res.status, body: await res.text() };
    };
    expect((await post(stock, stock.secretAccessKey)).status).toBe(500);
    const forged = await post(moto, 'not-the-secret');
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await storageOn(moto).exists('posted.txt')).toBe(false);
    expect((await post(moto, moto.secretAccessKey)).status).toBe(204);
    expect((await collect((await storageOn(moto).get('posted.txt')).body)).toString()).toBe('posted');
  });

  it('a body changed after signing: stored by stock moto, refused with XAmzContentSHA256Mismatch as S3 does', async () => {
    const put = (server: S3TestServer) =>
      tamperingClient(server).send(
        new PutObjectCommand({ Bucket: server.bucket, Key: 'tampered.txt', Body: 'hello' }),
      );
    await put(stock);
    expect((await collect((await storageOn(stock).get('tampered.txt')).body)).toString()).toBe('HELLO');

    const err = await put(moto).catch(
      (e: unknown) => e as { name?: string; $metadata?: { httpStatusCode?: number } },
    );
    expect(err).toMatchObject({ name: 'XAmzContentSHA256Mismatch', $metadata: { httpStatusCode: 400 } });
    expect(await storageOn(moto).exists('tampered.txt')).toBe(false);
  });
});

describe('moto launcher process', () => {
  it('shuts moto-api once authentication is on: no test can switch signature checks off', async () => {
    const moto = await startMotoServer();
    try {
      const reset = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: 'inf' });
      expect(reset.status).toBe(403);
      await reset.arrayBuffer();
      const forged = storageOn(moto, {
        credentials: { accessKeyId: moto.accessKeyId, secretAccessKey: 'wrong' },
      });
      await expectCode(forged.put('after-reset.txt', 'x'), 'ACCESS_DENIED');
    } finally {
      await moto.stop();
    }
  });

  it('stop() ends the server process and removes its temp directory', async () => {
    const moto = await startMotoServer();
    expect(alive(moto.pid)).toBe(true);
    expect(existsSync(moto.directory)).toBe(true);
    await moto.stop();
    expect(alive(moto.pid)).toBe(false);
    expect(existsSync(moto.directory)).toBe(false);
  });

  it('a parent that dies (SIGKILL, no cleanup) leaves no moto process and no temp directory behind', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'stowage-moto-orphan-'));
    try {
      const launch = motoLaunch('orphan-test', directory);
      // A parent spawning the launcher as startMotoServer does, printing the launcher's pid once it is up.
      const parentSource = `
        const { spawn } = require('node:child_process');
        const { command, args, options } = JSON.parse(process.argv[1]);
        const child = spawn(command, args, options);
        child.stdout.once('data', () => console.log(JSON.stringify({ pid: child.pid })));
      `;
      const parent = spawn(process.execPath, ['-e', parentSource, JSON.stringify(launch)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string];
      const { pid } = JSON.parse(line) as { pid: number };
      expect(alive(pid)).toBe(true);
      // The launcher is up and owns its directory; once the parent dies it may remove it at any moment.
      expect(existsSync(directory)).toBe(true);
      parent.kill('SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid)).toBe(false);
      expect(existsSync(directory)).toBe(false);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
