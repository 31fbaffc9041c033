import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { S3Storage } from '../../adapters/s3/index.js';
import type { Storage } from '../../src/core/types.js';
import { multipartBody, pngBytes } from '../express/upload/fixtures.js';
import { allKeys, close, EXPRESS_VERSIONS, listen, uploadApp } from '../express/upload/harness.js';
import { abortAfter, postMultipart } from '../helpers/raw-multipart.js';
import { collect } from '../helpers/streams.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { walk } from './files.js';
import { report, rng, scaled, TRIAL_TIMEOUT } from './scale.js';

const ABORTS = scaled(100, 10);
const OVER_LIMIT = scaled(100, 10);
const LIMIT = 32 * 1024;
const VICTIM = 'victim/existing.bin';
const VICTIM_BYTES = Buffer.from('the object already stored at the key: it must survive');
// s3rver removes directories left empty and races a put into them; a fixture keeps ".staging/" alive
// (the same workaround as test/express/upload-s3.test.ts).
const KEEP = '.staging/s3rver-keep-dir';

let s3: S3TestServer;
let scratch: string;

beforeAll(async () => {
  s3 = await startS3Server({ bucket: 'chaos-uploads' });
  scratch = await mkdtemp(join(tmpdir(), 'stowage-chaos-uploads-'));
});
afterAll(async () => {
  await s3?.stop();
  await rm(scratch, { recursive: true, force: true });
});

interface Backend {
  name: string;
  storage: Storage;
  fixtures: string[];
  /** Leftovers the backend can see beyond its listing (temp files on disk, pending multipart uploads). */
  hidden(): Promise<string[]>;
}

async function backends(): Promise<Backend[]> {
  const root = join(scratch, 'local-root');
  const local = new LocalStorage({ root });
  const s3Storage = new S3Storage({
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    prefix: 'chaos',
  });
  await s3Storage.put(KEEP, '');
  return [
    {
      name: 'local',
      storage: local,
      fixtures: [],
      hidden: async () => (await walk(root)).filter((f) => f.includes('-tmp-') || f.startsWith('.staging')),
    },
    { name: 'S3', storage: s3Storage, fixtures: [KEEP], hidden: () => s3.pendingUploads() },
  ];
}

describe('chaos: aborted and over-limit uploads leave nothing and damage nothing', () => {
  it(
    `${ABORTS} aborts and ${OVER_LIMIT} over-limit uploads per backend (local, S3) aimed at an existing key`,
    async () => {
      const r = rng();
      for (const backend of await backends()) {
        const { storage } = backend;
        await storage.put(VICTIM, VICTIM_BYTES);
        // Every upload is aimed at the victim's key: a failed one must not replace it.
        const { app, completed, outcomes } = uploadApp(EXPRESS_VERSIONS[0][1], storage, {
          maxFileSize: LIMIT,
          key: () => VICTIM,
        });
        const { server, port } = await listen(app);
        const failures: string[] = [];
        let leftovers = 0;
        const leftNames = new Set<string>();
        const check = async (label: string) => {
          const keys = (await allKeys(storage)).filter((k) => !backend.fixtures.includes(k));
          if (keys.join() !== VICTIM) {
            failures.push(`${label}: keys ${JSON.stringify(keys)}`);
            leftovers += keys.filter((k) => k !== VICTIM).length;
          }
          for (const h of await backend.hidden()) leftNames.add(h);
          leftovers = leftNames.size;
          const survived = await collect((await storage.get(VICTIM)).body).catch(() => Buffer.alloc(0));
          if (!survived.equals(VICTIM_BYTES)) failures.push(`${label}: the existing object was damaged`);
        };
        try {
          const boundary = 'chaosBoundary7';
          let done = 0;
          for (let batch = 0; batch < ABORTS / 10; batch++) {
            await Promise.all(
              Array.from({ length: 10 }, () => {
                const body = multipartBody(boundary, [
                  { name: 'note', data: 'hello' },
                  { name: 'f', filename: 'a.png', data: pngBytes(40, 40, r.int(1000)) },
                  { name: 'g', filename: 'b.bin', data: Buffer.alloc(8 * 1024 + r.int(16 * 1024), 3) },
                ]);
                return abortAfter(port, boundary, body, 1 + r.int(body.length - 1));
              }),
            );
            done += 10;
            await completed(done);
            await check(`${backend.name} aborts batch ${batch}`);
          }
          const aborted = outcomes.filter((o) => !o.ok && o.error?.code === 'ABORTED').length;
          for (let batch = 0; batch < OVER_LIMIT / 10; batch++) {
            const statuses = await Promise.all(
              Array.from({ length: 10 }, () => {
                const body = multipartBody(boundary, [
                  { name: 'f', filename: 'big.bin', data: Buffer.alloc(LIMIT + 1 + r.int(4 * LIMIT), 9) },
                ]);
                return postMultipart(port, boundary, body).then((res) => res.status);
              }),
            );
            done += 10;
            await completed(done);
            for (const s of statuses)
              if (s !== 413 && s !== 0) failures.push(`${backend.name}: over-limit got ${s}`);
            await check(`${backend.name} over-limit batch ${batch}`);
          }
          const tooLarge = outcomes.filter((o) => !o.ok && o.error?.code === 'TOO_LARGE').length;
          const succeeded = outcomes.filter((o) => o.ok).length;
          if (succeeded) failures.push(`${backend.name}: ${succeeded} uploads succeeded`);
          // Leftovers seen at a check may still be in flight: look again once everything settled.
          await new Promise((res) => setTimeout(res, 1_000));
          const persistent = (await backend.hidden()).filter((f) => leftNames.has(f));
          report({
            area: `uploads on ${backend.name}`,
            trials: outcomes.length,
            failures: failures.length,
            leftovers,
            note: `${aborted} ABORTED, ${tooLarge} TOO_LARGE, victim intact after every batch; ${persistent.length} leftover file(s) still there after settling`,
          });
          expect(failures).toEqual([]);
          expect([...leftNames]).toEqual([]);
          expect(outcomes).toHaveLength(ABORTS + OVER_LIMIT);
          expect(tooLarge).toBe(OVER_LIMIT);
        } finally {
          await close(server);
        }
      }
    },
    TRIAL_TIMEOUT,
  );
});
