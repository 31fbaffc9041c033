import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { type BrowserUploadAppOptions, browserUploadApp } from '../../examples/browser-upload/app.js';
import type { DirectUploadAction } from '../../src/express/direct-upload/index.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { serverOptions } from '../s3/harness.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { elfBytes, pngBytes } from './upload/fixtures.js';
import { allKeys, close, listen } from './upload/harness.js';

warnIfNoChromium('Uppy browser tests');

const MiB = 1024 * 1024;
/** How long to wait for the page or the store to get there: a bound on a hang, not a timing claim. */
const WAIT = { timeout: 60_000 };

/** A part-sign request Uppy makes waits here while a test holds parts past `after`. */
interface Hold {
  after: number;
  reached: () => void;
  release: Promise<void>;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe.skipIf(!haveChromium)(
  'the real @uppy/core + @uppy/aws-s3 in headless Chromium, against directUpload() and the S3 test server',
  () => {
    let s3: S3TestServer;
    let dir: string;
    let browser: Browser;
    const apps: Array<{ server: Server; port: number }> = [];
    let hold: Hold | undefined;
    const actions: DirectUploadAction[] = [];

    /** authorize() of the test apps: records each action, and holds part signing when told. */
    const authorize: NonNullable<BrowserUploadAppOptions['authorize']> = async (req, { action }) => {
      actions.push(action);
      const part = Number(/\/s3\/multipart\/[^/?]+\/(\d+)/.exec(req.url ?? '')?.[1]);
      const current = hold;
      if (current && action === 'multipart-sign' && part > current.after) {
        current.reached();
        await current.release;
      }
      return true;
    };

    async function appOn(storage: S3Storage, options: BrowserUploadAppOptions = {}): Promise<number> {
      const app = await listen(browserUploadApp(storage, { authorize, ...options }));
      apps.push(app);
      return app.port;
    }

    let aws: S3Storage;
    let r2: S3Storage;
    let main: number;
    let small: number;
    let putOnly: number;

    beforeAll(async () => {
      s3 = await startS3Server({ bucket: 'uppy-tests' });
      aws = new S3Storage(serverOptions(s3));
      // The r2 profile: no browser POST, so single uploads are presigned PUTs.
      r2 = new S3Storage(serverOptions(s3, { preset: 'r2', prefix: 'r2' }));
      // Uppy reads each part's ETag from the PUT's answer: the bucket must expose it.
      await aws.client.send(
        new PutBucketCorsCommand({
          Bucket: s3.bucket,
          CORSConfiguration: {
            CORSRules: [
              {
                AllowedOrigins: ['*'],
                AllowedMethods: ['GET', 'POST', 'PUT'],
                AllowedHeaders: ['*'],
                ExposeHeaders: ['ETag'],
              },
            ],
          },
        }),
      );
      main = await appOn(aws, { maxFileSize: 200 * MiB });
      small = await appOn(aws, { maxFileSize: 12 * MiB });
      putOnly = await appOn(r2, { maxFileSize: 10 * MiB });
      dir = await mkdtemp(join(tmpdir(), 'stowage-uppy-'));
      browser = await launchChromium();
    });

    afterAll(async () => {
      hold = undefined;
      await browser?.close();
      for (const app of apps) await close(app.server);
      await s3?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A file on disk (Playwright hands big files to the page by path): a PNG head, then random bytes. */
    async function fileOf(name: string, size: number, head: Buffer = pngBytes(16, 16, 9)): Promise<string> {
      const path = join(dir, name);
      await writeFile(path, Buffer.concat([head, randomBytes(size - head.length)]));
      return path;
    }

    async function open(port: number, mode?: string): Promise<Page> {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/uppy${mode ? `?mode=${mode}` : ''}`);
      return page;
    }

    async function start(page: Page, path: string): Promise<void> {
      await page.setInputFiles('#file', path);
      await expect.poll(() => page.textContent('#status'), WAIT).toMatch(/^ready/);
      await page.click('#start');
    }

    /** The page's final word: the confirmed file, or the refusal/error text. */
    async function outcome(page: Page): Promise<string> {
      await expect
        .poll(() => page.textContent('#status'), { timeout: 180_000 })
        .toMatch(/^(\{|refused|error)/);
      return (await page.textContent('#status'))!;
    }

    async function savedUpload(page: Page): Promise<{ key: string; uploadId: string }> {
      // Runs in the page, where localStorage exists (this file compiles without DOM types).
      const saved = await page.evaluate<Array<string | null>>(`
        Object.keys(localStorage)
          .filter((k) => k.startsWith('stowage-upload:'))
          .map((k) => localStorage.getItem(k))`);
      expect(saved).toHaveLength(1);
      return JSON.parse(saved[0]!);
    }

    const partPuts = async () =>
      (await s3.requests()).filter((r) => r.method === 'PUT' && r.query.includes('partNumber'));

    it('a 100 MiB file in 5 MiB parts; a reload mid-upload resumes and sends only the missing parts', async () => {
      const path = await fileOf('video.png', 100 * MiB);
      const gate = deferred();
      const release = deferred();
      hold = { after: 8, reached: gate.resolve, release: release.promise };
      const page = await open(main);
      try {
        await start(page, path);
        await gate.promise; // Part 9 asked for: parts 1 to 8 are in the store.
        const { key, uploadId } = await savedUpload(page);
        expect((await aws.multipartUpload.listParts(key, uploadId)).map((p) => p.partNumber)).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8,
        ]);
        await page.reload();
        hold = undefined;
        release.resolve();
        await s3.clearRequests();
        await start(page, path);
        const file = JSON.parse(await outcome(page));
        expect(file).toMatchObject({ size: 100 * MiB, contentType: 'image/png', originalName: 'video.png' });
        // 20 parts in all; after the reload only the 12 the store did not have went out.
        expect((await partPuts()).length).toBe(12);
        const want = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
        const stored = createHash('sha256');
        for await (const chunk of (await aws.get(file.key)).body) stored.update(chunk as Buffer);
        expect(stored.digest('hex')).toBe(want);
        expect(await allKeys(aws, '.staging/')).toEqual([]);
      } finally {
        hold = undefined;
        release.resolve();
        await page.close();
        await aws.delete((await allKeys(aws, 'uploads/'))[0] ?? 'uploads/none');
      }
    });

    it('cancel aborts the multipart upload at the store', async () => {
      const path = await fileOf('cancel.png', 20 * MiB);
      const gate = deferred();
      const release = deferred();
      hold = { after: 2, reached: gate.resolve, release: release.promise };
      const page = await open(main);
      try {
        await start(page, path);
        await gate.promise;
        const { key } = await savedUpload(page);
        await page.click('#cancel');
        await expect
          .poll(async () => (await s3.pendingUploads()).some((u) => u.startsWith(key)), WAIT)
          .toBe(false);
        expect(actions).toContain('multipart-abort');
        expect(await allKeys(aws, '.staging/')).toEqual([]);
      } finally {
        hold = undefined;
        release.resolve();
        await page.close();
      }
    });

    it('over the limit: the parts are refused before completion and the upload is aborted', async () => {
      // 20 MiB in 8 MiB parts: three parts, each allowed, whose sum is over the 12 MiB limit.
      const path = await fileOf('huge.png', 20 * MiB);
      const page = await open(small, 'big-parts');
      try {
        actions.length = 0;
        await start(page, path);
        expect(await outcome(page)).toMatch(/^error: .*Payload Too Large/);
        // Refused by the parts' sum at complete, not by a part number past the limit.
        expect(actions).toContain('multipart-complete');
        expect(actions).not.toContain('confirm');
        await expect.poll(async () => (await s3.pendingUploads()).length, WAIT).toBe(0);
        expect(await allKeys(aws, '.staging/')).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('a type not allowed (an executable named .png) is uploaded, then refused at confirm and deleted', async () => {
      const path = await fileOf('evil.png', 6 * MiB, elfBytes());
      const page = await open(main);
      try {
        await start(page, path);
        expect(await outcome(page)).toMatch(/^refused: UNSUPPORTED_TYPE/);
        expect(await allKeys(aws, '.staging/')).toEqual([]);
        expect(await allKeys(aws, 'uploads/')).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('single-upload mode on a store with POST: Uppy posts the policy form, confirm takes the key it reports', async () => {
      const path = await fileOf('small.png', 200 * 1024);
      await s3.clearRequests();
      const page = await open(main);
      try {
        await start(page, path);
        const file = JSON.parse(await outcome(page));
        expect(file).toMatchObject({ size: 200 * 1024, contentType: 'image/png', originalName: 'small.png' });
        const toStore = (await s3.requests()).filter(
          (r) => r.path === `/${s3.bucket}` || r.path.includes('.staging/'),
        );
        expect(toStore.map((r) => r.method)).toContain('POST');
        expect(toStore.some((r) => r.query.includes('uploadId'))).toBe(false);
      } finally {
        await page.close();
        await aws.delete((await allKeys(aws, 'uploads/'))[0] ?? 'uploads/none');
      }
    });

    it('single-upload mode on a store without POST (r2 profile): one presigned PUT, then confirm', async () => {
      const path = await fileOf('photo.png', 300 * 1024);
      await s3.clearRequests();
      const page = await open(putOnly, 'put');
      try {
        await start(page, path);
        const file = JSON.parse(await outcome(page));
        expect(file).toMatchObject({ size: 300 * 1024, contentType: 'image/png', originalName: 'photo.png' });
        const toStore = (await s3.requests()).filter((r) => r.path.includes('/r2/.staging/'));
        expect(toStore.map((r) => [r.method, r.query.includes('uploadId')])).toContainEqual(['PUT', false]);
        expect(toStore.some((r) => r.method === 'POST')).toBe(false);
        expect((await r2.head(file.key)).size).toBe(300 * 1024);
      } finally {
        await page.close();
      }
    });
  },
);
