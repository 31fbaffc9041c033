#!/usr/bin/env node
/**
 * Uploads that survive a dyno restart: a form page posting through the app
 * (upload()), a button sending big files straight to the bucket
 * (directUpload(), S3 and Cloudinary), and a gallery served by serve().
 *
 * Storage comes from the environment: STOWAGE_URL (s3://…, cloudinary://…),
 * the Bucketeer, Cloudcube or Cloudinary add-on variables, else the local
 * folder ./uploads (fine on a laptop, lost at every restart on a dyno).
 */
import { readFile } from 'node:fs/promises';
import express from 'express';
import { createStorage, isStowageError } from 'stowage';
import { directUpload, errorHandler, serve, upload } from 'stowage/express';

const storage = await createStorage();
const PREFIX = 'gallery';
const IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
const page = await readFile(new URL('./public/index.html', import.meta.url), 'utf8');
const scripts = {
  '/direct.js': await readFile(new URL('./public/direct.js', import.meta.url), 'utf8'),
  '/upload-form.js': await readFile(new URL('./public/upload-form.js', import.meta.url), 'utf8'),
};

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Why the last form post was refused (?error=, set by the fallback below), shown above the gallery.
const refusal = (error) =>
  typeof error === 'string' && error ? `<span class="error">Not uploaded: ${escapeHtml(error)}</span>` : '';
const fileUrl = (key) => `/files/${key.split('/').map(encodeURIComponent).join('/')}`;

/** The newest images first; list() pages through the store under the hood. */
async function gallery(limit = 60) {
  const items = [];
  for await (const info of storage.list(`${PREFIX}/`)) items.push(info);
  items.sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
  return items.slice(0, limit);
}

const app = express();

app.get('/', async (req, res, next) => {
  try {
    const items = await gallery();
    const figures = items
      .map(
        (i) =>
          `<figure><a href="${fileUrl(i.key)}"><img src="${fileUrl(i.key)}" alt="" loading="lazy"></a><figcaption>${escapeHtml(i.key)} · ${i.size} bytes</figcaption></figure>`,
      )
      .join('\n');
    res.type('html').send(
      page
        .replace('{{backend}}', escapeHtml(storage.name))
        .replace('{{direct}}', storage.presignUpload ? '' : 'hidden')
        .replace('{{uploadStatus}}', refusal(req.query.error))
        .replace('{{gallery}}', figures || '<p class="empty">No images yet: upload one.</p>'),
    );
  } catch (err) {
    next(err);
  }
});
for (const [path, source] of Object.entries(scripts)) {
  app.get(path, (_req, res) => res.type('text/javascript').send(source));
}

// Through the app: streamed to storage, type sniffed from the bytes, size capped.
app.post(
  '/upload',
  upload(storage, { prefix: PREFIX, allowedTypes: IMAGES, maxFileSize: 10 * 1024 * 1024 }),
  (req, res) => {
    if (req.accepts(['html', 'json']) === 'html') res.redirect(303, '/');
    else res.status(201).json(req.stowage);
  },
);

// A form posted without JavaScript would land on a raw JSON error: send the browser back to the page
// with the reason instead. (With JavaScript, upload-form.js posts with fetch and shows it in place.)
app.use('/upload', (err, req, res, next) => {
  if (res.headersSent || req.accepts(['json', 'html']) !== 'html') return next(err);
  const reason = isStowageError(err) && err.status < 500 ? err.message : 'the upload failed, try again';
  res.redirect(303, `/?error=${encodeURIComponent(reason)}`);
});

// Straight to the bucket: the app only signs and confirms, the bytes skip the router's 30 s limit.
app.use(
  '/direct',
  directUpload(storage, {
    prefix: PREFIX,
    allowedTypes: IMAGES,
    maxFileSize: 200 * 1024 * 1024,
    // Replace with your own check (a session, a token): only `true` lets a request through.
    authorize: () => true,
  }),
);

// The gallery's images: ETag/304, Range, and a small memory and disk cache in front of storage.
app.use('/files', serve(storage, { cacheControl: 'public, max-age=3600' }));

app.use(errorHandler());

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`uploads example on http://localhost:${port} (storage: ${storage.name})`));
