/**
 * The example's server: the page, upload() at POST /upload, directUpload()
 * at /direct (single uploads and, for Uppy, Companion's S3 routes under
 * /direct/s3/), the Uppy page at /uppy, and GET /files/<key> reading objects
 * back. Run it with
 *   STOWAGE_URL=s3://bucket?region=… npx tsx examples/browser-upload/app.ts
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { StowageError } from '../../src/core/errors.js';
import type { Storage } from '../../src/core/types.js';
import { type DirectUploadOptions, directUpload } from '../../src/express/direct-upload/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { upload } from '../../src/express/upload/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** What a deployment (or a test) changes; everything else is the example as written. */
export type BrowserUploadAppOptions = Partial<
  Pick<DirectUploadOptions, 'authorize' | 'maxFileSize' | 'allowedTypes'>
>;

export function browserUploadApp(storage: Storage, options: BrowserUploadAppOptions = {}): express.Express {
  const app = express();
  app.get('/uppy', async (_req, res) => {
    res.type('html').send(await readFile(join(here, 'uppy.html'), 'utf8'));
  });
  app.get('/uppy.js', async (_req, res, next) => {
    try {
      res.type('text/javascript').send(await uppyBundle());
    } catch (err) {
      next(err);
    }
  });
  app.get('/', async (_req, res) => {
    res.type('html').send(await readFile(join(here, 'index.html'), 'utf8'));
  });
  app.get('/upload.js', async (_req, res) => {
    res.type('text/javascript').send(await readFile(join(here, 'upload.js'), 'utf8'));
  });
  app.post(
    '/upload',
    upload(storage, { maxFileSize: 20 * 1024 * 1024, allowedTypes: ['image/'] }),
    (req, res) => {
      res.json(req.stowage);
    },
  );
  app.use(
    '/direct',
    directUpload(storage, {
      maxFileSize: 1024 * 1024 * 1024,
      allowedTypes: ['image/'],
      // Replace with your own check (session, token, …): only `true` lets a request through.
      authorize: () => true,
      ...options,
    }),
  );
  app.get(/^\/files\/(.+)$/, async (req, res, next) => {
    try {
      const key = (req.params as Record<string, string>)[0] ?? '';
      if (key.startsWith('.staging/')) throw new StowageError('NOT_FOUND', 'no such file');
      const { info, body } = await storage.get(key);
      res.setHeader('Content-Type', info.contentType ?? 'application/octet-stream');
      res.setHeader('Content-Length', String(info.size));
      body.pipe(res);
    } catch (err) {
      next(err);
    }
  });
  app.use(errorHandler());
  return app;
}

let bundle: Promise<string> | undefined;

/** uppy-page.js with @uppy/core and @uppy/aws-s3 bundled in, built once (esbuild, a devDependency). */
function uppyBundle(): Promise<string> {
  bundle ??= import('esbuild').then(async ({ build }) => {
    const out = await build({
      entryPoints: [join(here, 'uppy-page.js')],
      bundle: true,
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0]!.text;
  });
  return bundle;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { createStorage } = await import('../../src/config/create-storage.js');
  const storage = await createStorage();
  const port = Number(process.env.PORT ?? 3000);
  browserUploadApp(storage).listen(port, () => console.log(`http://localhost:${port}`));
}
