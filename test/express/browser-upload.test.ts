import type { Server } from 'node:http';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../adapters/s3/index.js';
import { browserUploadApp } from '../../examples/browser-upload/app.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { collect, sha256 } from '../helpers/streams.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { pngBytes } from './upload/fixtures.js';
import { close, listen } from './upload/harness.js';

warnIfNoChromium('browser upload tests');

describe.skipIf(!haveChromium)(
  'the browser-upload example in headless Chromium, against the S3 test server',
  () => {
    let s3: S3TestServer;
    let storage: S3Storage;
    let app: { server: Server; port: number };
    let browser: Browser;

    beforeAll(async () => {
      s3 = await startS3Server({ bucket: 'browser-tests' });
      storage = new S3Storage({
        bucket: s3.bucket,
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      });
      // The page posts straight to the bucket from another origin, as with real S3: the bucket needs CORS.
      await storage.client.send(
        new PutBucketCorsCommand({
          Bucket: s3.bucket,
          CORSConfiguration: {
            CORSRules: [
              { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'POST', 'PUT'], AllowedHeaders: ['*'] },
            ],
          },
        }),
      );
      app = await listen(browserUploadApp(storage));
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      if (app) await close(app.server);
      await s3?.stop();
    });

    async function readBack(key: string): Promise<Buffer> {
      return collect((await storage.get(key)).body);
    }

    it('uploads a real file through directUpload (presign, POST to S3, confirm) and reads it back', async () => {
      const png = pngBytes(200, 150, 21);
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${app.port}/`);
        await page.setInputFiles('#direct-file', { name: 'photo.png', mimeType: 'image/png', buffer: png });
        await page.click('#direct-send');
        const result = page.locator('#direct-result');
        await expect
          .poll(async () => (await result.textContent()) ?? '', { timeout: 30_000 })
          .toMatch(/"key"|error/);
        const file = JSON.parse((await result.textContent())!);
        expect(file).toMatchObject({
          size: png.length,
          sha256: sha256(png),
          contentType: 'image/png',
          originalName: 'photo.png',
        });
        expect((await readBack(file.key)).equals(png)).toBe(true);
        const served = await page.evaluate(async (key) => {
          const res = await fetch(`/files/${key}`);
          return { status: res.status, size: (await res.arrayBuffer()).byteLength };
        }, file.key);
        expect(served).toEqual({ status: 200, size: png.length });
      } finally {
        await page.close();
      }
    });

    it('uploads a real file through upload() from a form and reads it back', async () => {
      const png = pngBytes(120, 90, 22);
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${app.port}/`);
        await page.setInputFiles('#classic-file', { name: 'form.png', mimeType: 'image/png', buffer: png });
        await page.click('#classic button[type=submit]');
        const result = page.locator('#classic-result');
        await expect
          .poll(async () => (await result.textContent()) ?? '', { timeout: 30_000 })
          .toMatch(/"key"|error/);
        const body = JSON.parse((await result.textContent())!);
        expect(body.fields).toEqual({ title: 'from the browser' });
        const [file] = body.files;
        expect(file).toMatchObject({
          field: 'file',
          size: png.length,
          sha256: sha256(png),
          originalName: 'form.png',
        });
        expect((await readBack(file.key)).equals(png)).toBe(true);
      } finally {
        await page.close();
      }
    });
  },
);
