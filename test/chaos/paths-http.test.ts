import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { S3Storage } from '../../adapters/s3/index.js';
import { encodeKeyPath } from '../../src/core/keys.js';
import type { Storage } from '../../src/core/types.js';
import { ODD_LEGAL_KEYS } from '../../src/testing/hostile-keys.js';
import { EXPRESS_VERSIONS, rawRequest, serveApp } from '../express/serve/harness.js';
import { allKeys, close, listen, uploadApp } from '../express/upload/harness.js';
import { postMultipart } from '../helpers/raw-multipart.js';
import { startS3Server } from '../servers/s3-server.js';
import { PATH_CORPUS } from './corpus.js';
import { type Canary, plantCanary, walk } from './files.js';
import { report } from './scale.js';

let scratch: string;
let root: string;
let canaries: Canary[];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'stowage-chaos-paths-'));
  root = join(scratch, 'app', 'store');
  await mkdir(root, { recursive: true });
  canaries = [
    await plantCanary(join(scratch, 'app', 'canary.txt')),
    await plantCanary(join(scratch, 'canary.txt')),
  ];
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const outside = async () =>
  (await walk(scratch)).filter(
    (f) => !f.startsWith('app/store/') && !f.startsWith('serve-cache/') && !f.endsWith('canary.txt'),
  );
const canaryProblems = async () => (await Promise.all(canaries.map((c) => c.check()))).flat();
const leaks = (body: Buffer) => canaries.some((c) => body.includes(c.marker));

describe('chaos: hostile HTTP paths through serve()', () => {
  it('every raw path is refused or served from inside the store; the canaries are never read or touched', async () => {
    const failures: string[] = [];
    let trials = 0;
    const s3 = await startS3Server({ bucket: 'chaos-paths' });
    const stores: Array<[string, Storage]> = [
      ['local', new LocalStorage({ root })],
      ['memory', new MemoryStorage()],
      [
        'S3',
        new S3Storage({
          bucket: s3.bucket,
          region: s3.region,
          endpoint: s3.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        }),
      ],
    ];
    try {
      for (const [storeName, storage] of stores) {
        await storage.put('ok.txt', 'fine');
        for (const key of ODD_LEGAL_KEYS) await storage.put(key, `legal ${key}`);
        for (const [expressName, makeExpress] of EXPRESS_VERSIONS) {
          const served = await serveApp(makeExpress, storage, {
            disk: { dir: join(scratch, 'serve-cache'), maxObjectBytes: 1024 },
          });
          try {
            for (const path of PATH_CORPUS) {
              for (const method of ['GET', 'HEAD']) {
                trials++;
                const label = `${storeName}/${expressName} ${method} /files/${path.slice(0, 50)}`;
                const res = await rawRequest(served.base, `/files/${path}`, { method }).catch((e: Error) => ({
                  status: -1,
                  headers: {},
                  body: Buffer.from(e.message),
                }));
                if (leaks(res.body)) failures.push(`${label}: served a canary`);
                if (res.status >= 500 || res.status < 0) failures.push(`${label}: status ${res.status}`);
                if (
                  res.status === 200 &&
                  method === 'GET' &&
                  !res.body.toString().startsWith('fine') &&
                  !res.body.toString().startsWith('legal ')
                )
                  failures.push(`${label}: 200 with unexpected body`);
              }
            }
            // Odd but legal keys round-trip through their encoded paths.
            for (const key of ODD_LEGAL_KEYS) {
              trials++;
              const res = await rawRequest(served.base, `/files/${encodeKeyPath(key)}`);
              if (res.status !== 200 || res.body.toString() !== `legal ${key}`)
                failures.push(`${storeName}/${expressName} legal ${key}: ${res.status}`);
            }
            const alive = await rawRequest(served.base, '/files/ok.txt');
            if (alive.status !== 200)
              failures.push(`${storeName}/${expressName}: server not answering after the corpus`);
          } finally {
            await served.close();
          }
        }
      }
    } finally {
      await s3.stop();
    }
    const escaped = await outside();
    const touched = await canaryProblems();
    report({
      area: 'hostile paths through serve() (local, memory, S3; express 4 and 5)',
      trials,
      failures: failures.length + touched.length,
      leftovers: escaped.length,
      note: `${PATH_CORPUS.length} raw paths x GET/HEAD + ${ODD_LEGAL_KEYS.length} legal odd keys`,
    });
    expect(failures).toEqual([]);
    expect(touched).toEqual([]);
    expect(escaped).toEqual([]);
  }, 120_000);
});

const HOSTILE_NAMES = [
  '../../canary.txt',
  '../canary.txt',
  '..\\..\\canary.txt',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '%2e%2e%2fcanary.txt',
  '\uff0e\uff0e\uff0fcanary.txt',
  '..\u2215canary.txt',
  'CON',
  'NUL.png',
  'COM1.txt',
  'name\u0000.png',
  'evil\r\nContent-Type: text/html',
  'rtl\u202egnp.exe',
  '.stowage-tmp-x',
  '.staging',
  'n'.repeat(10 * 1024),
  '',
  '"quoted".txt',
];

/** A multipart body with raw header bytes (no escaping), the way a hostile client would send it. */
function rawMultipart(boundary: string, field: string, filename: string | undefined, data: string): Buffer {
  let head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"`;
  if (filename !== undefined) head += `; filename="${filename}"`;
  return Buffer.concat([
    Buffer.from(`${head}\r\n\r\n`, 'utf8'),
    Buffer.from(data),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

describe('chaos: hostile file and field names through upload()', () => {
  it('names never choose where bytes land: random keys under uploads/, clean original names, canaries intact', async () => {
    const storage = new LocalStorage({ root });
    const before = new Set(await allKeys(storage));
    const { app, completed } = uploadApp(EXPRESS_VERSIONS[0][1], storage, { maxFieldSize: 20 * 1024 });
    const { server, port } = await listen(app);
    const failures: string[] = [];
    let trials = 0;
    let stored = 0;
    try {
      for (const name of HOSTILE_NAMES) {
        for (const asField of [false, true]) {
          trials++;
          const label = `${asField ? 'field' : 'filename'} ${JSON.stringify(name.slice(0, 40))}`;
          const body = asField
            ? rawMultipart('b0und', name, 'plain.txt', 'field-name payload')
            : rawMultipart('b0und', 'file', name, 'file-name payload');
          const res = await postMultipart(port, 'b0und', body);
          await completed(trials);
          // Status 0: the connection failed, which counts as a failure here.
          if (res.status >= 500 || res.status === 0) failures.push(`${label}: status ${res.status}`);
          if (canaries.some((c) => res.body.includes(c.marker)))
            failures.push(`${label}: response leaked a canary`);
          if (res.status !== 200) continue;
          const files = (JSON.parse(res.body) as { files: Array<{ key: string; originalName: string }> })
            .files;
          for (const f of files) {
            stored++;
            if (!/^uploads\/[0-9a-f-]{36}(\.[a-z0-9]+)?$/.test(f.key))
              failures.push(`${label}: key ${f.key}`);
            // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
            if (/[\\/\u0000-\u001f\u007f-\u009f]/.test(f.originalName))
              failures.push(`${label}: originalName kept ${JSON.stringify(f.originalName.slice(0, 40))}`);
          }
        }
      }
    } finally {
      await close(server);
    }
    const added = (await allKeys(storage)).filter((k) => !before.has(k));
    const strays = added.filter((k) => !k.startsWith('uploads/'));
    const escaped = await outside();
    const touched = await canaryProblems();
    report({
      area: 'hostile names through upload() (local)',
      trials,
      failures: failures.length + touched.length + strays.length,
      leftovers: escaped.length,
      note: `${stored} files stored under random keys, the rest refused with 4xx`,
    });
    expect(failures).toEqual([]);
    expect(strays).toEqual([]);
    expect(touched).toEqual([]);
    expect(escaped).toEqual([]);
  }, 120_000);
});
