/**
 * The examples start and work as a user runs them: copied into a fresh app
 * directory with a production install of the built package, started with
 * `node`, driven over HTTP. The uploads app runs on the local default and
 * against the S3 test server (direct upload included).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../express/upload/fixtures.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { sha256 } from '../helpers/streams.js';
import { type S3TestServer, startS3Server } from '../servers/s3-server.js';
import { buildLibrary, REPO_ROOT } from './build-lib.js';
import { bootDyno, type Dyno } from './dyno.js';
import { installProduction } from './install.js';

const run = promisify(execFile);
let work: string;
const running: Dyno[] = [];

async function start(dir: string, env: Record<string, string> = {}): Promise<Dyno> {
  const dyno = await bootDyno(dir, env, 'node server.mjs');
  running.push(dyno);
  await dyno.bound();
  return dyno;
}

async function until<T>(what: string, dyno: Dyno, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`${what} never happened:\n${dyno.logs()}`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-examples-'));
  const stowageDir = await buildLibrary(join(work, 'lib'));
  // One node_modules above both apps, as `npm install` in a parent folder would leave it.
  await installProduction(join(work, 'apps'), stowageDir, [
    'express',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
  ]);
  for (const name of ['model', 'uploads']) {
    await cp(join(REPO_ROOT, 'examples', name), join(work, 'apps', name), {
      recursive: true,
      filter: (src) =>
        !/[/\\](node_modules|models|model-store|uploads[/\\]uploads|stowage\.lock\.json)/.test(
          src.slice(REPO_ROOT.length),
        ),
    });
  }
}, 60_000);

afterAll(async () => {
  for (const d of running) await d.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('examples/model', () => {
  it('publishes generated weights, binds at once, restores them, then predicts', async () => {
    const dir = join(work, 'apps', 'model');
    await run(process.execPath, ['generate.mjs', '--publish', '--mb', '1'], { cwd: dir });
    const manifest = JSON.parse(await readFile(join(dir, 'stowage.lock.json'), 'utf8'));
    expect(manifest.storage).toBe('file:./model-store');
    expect(manifest.files[0]).toMatchObject({ path: 'models/sentiment.f32', size: 1024 * 1024 });

    const dyno = await start(dir);
    const health = await fetch(`${dyno.url}/health`);
    expect(health.status).toBe(200);
    const ok = await until('a 200 prediction', dyno, async () => {
      const res = await fetch(`${dyno.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'a wonderful and moving film' }),
      });
      if (res.status === 503) expect(res.headers.get('retry-after')).toBeTruthy();
      return res.status === 200 ? ((await res.json()) as { label: string; positive: number }) : undefined;
    });
    expect(ok.label).toBe('positive');
    const bad = await fetch(`${dyno.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'boring and awful, a waste of money' }),
    });
    expect(((await bad.json()) as { label: string }).label).toBe('negative');
    const invalid = await fetch(`${dyno.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(invalid.status).toBe(400);
    expect((await stat(join(dir, 'models/sentiment.f32'))).size).toBe(1024 * 1024);
    expect(dyno.logs()).toMatch(/1 downloaded/);
    await dyno.kill();

    // A second start on the same disk finds the weights in place.
    const again = await start(dir);
    await until('a warm start', again, async () => (/artifacts ready/.test(again.logs()) ? true : undefined));
    expect(again.logs()).toMatch(/0 downloaded/);
    await again.kill();
  });
});

async function postImage(url: string, bytes: Buffer, name: string, accept = 'application/json') {
  const form = new FormData();
  form.append('image', new Blob([bytes]), name);
  return fetch(`${url}/upload`, { method: 'POST', body: form, headers: { accept }, redirect: 'manual' });
}

describe('examples/uploads on the local default', () => {
  let dyno: Dyno;
  beforeAll(async () => {
    dyno = await start(join(work, 'apps', 'uploads'));
  });

  it('stores a form upload, lists it in the gallery and serves it with validators', async () => {
    const png = pngBytes(8, 8, 3);
    const res = await postImage(dyno.url, png, 'cat.png');
    expect(res.status).toBe(201);
    const { files } = (await res.json()) as { files: { key: string; sha256: string }[] };
    expect(files[0]?.key).toMatch(/^gallery\/.+\.png$/);
    expect(files[0]?.sha256).toBe(sha256(png));

    const page = await (await fetch(dyno.url)).text();
    expect(page).toContain(`/files/${files[0]?.key}`);
    expect(page).toMatch(/<section hidden>\s*<h2>Straight to storage/); // local: no direct upload

    const image = await fetch(`${dyno.url}/files/${files[0]?.key}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(sha256(Buffer.from(await image.arrayBuffer()))).toBe(sha256(png));
    const etag = image.headers.get('etag');
    expect(etag).toBeTruthy();
    // fetch() adds "Cache-Control: no-cache" to conditional requests unless one is given; a browser revalidating sends max-age=0.
    const again = await fetch(`${dyno.url}/files/${files[0]?.key}`, {
      headers: { 'if-none-match': etag ?? '', 'cache-control': 'max-age=0' },
    });
    expect(again.status).toBe(304);
    // On disk under the app, where the local default keeps it.
    expect((await stat(join(work, 'apps', 'uploads', 'uploads', files[0]?.key ?? ''))).size).toBe(png.length);
  });

  it('redirects a browser form post back to the gallery and refuses what is not an image', async () => {
    const res = await postImage(dyno.url, pngBytes(4, 4, 9), 'dog.png', 'text/html');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const text = await postImage(dyno.url, Buffer.from('just text, not an image'), 'notes.png');
    expect(text.status).toBe(415);
  });
});

warnIfNoChromium('the uploads example in a browser');

/** STOWAGE_SCREENSHOT_DIR=dir keeps what the browser showed, to look at. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.STOWAGE_SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: join(dir, name), fullPage: true });
}

describe.skipIf(!haveChromium)('examples/uploads in headless Chromium, on the local default', () => {
  let dyno: Dyno;
  let browser: Browser;
  const notAnImage = {
    name: 'notes.png',
    mimeType: 'image/png',
    buffer: Buffer.from('just text, not an image'),
  };
  const reason =
    /^Not uploaded: file "notes\.png" in field "image" has no recognisable file signature; allowed types: image\/png/;

  beforeAll(async () => {
    dyno = await start(join(work, 'apps', 'uploads'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await dyno?.kill();
  });

  it('explains a refused file in the page, without leaving it', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(dyno.url);
      await page.setInputFiles('input[name=image]', notAnImage);
      await page.click('#upload-form button[type=submit]');
      const status = page.locator('#upload-status .error, #upload-status.error');
      await status.waitFor({ timeout: 30_000 });
      expect(await page.locator('#upload-status').textContent()).toMatch(reason);
      expect(page.url()).toBe(`${dyno.url}/`);
      expect(await page.locator('h1').textContent()).toBe('Uploads with stowage');
      await screenshot(page, 'refused-upload.png');

      // An image goes through and shows up in the gallery.
      const before = await page.locator('figure').count();
      await page.setInputFiles('input[name=image]', {
        name: 'cat.png',
        mimeType: 'image/png',
        buffer: pngBytes(24, 24, 7),
      });
      await page.click('#upload-form button[type=submit]');
      await expect.poll(() => page.locator('figure').count(), { timeout: 30_000 }).toBeGreaterThan(before);
      expect(await page.locator('#upload-status').textContent()).toBe('');
    } finally {
      await page.close();
    }
  });

  it('explains a refused file without JavaScript too: the form post comes back to the page', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(dyno.url);
      await page.setInputFiles('input[name=image]', notAnImage);
      await Promise.all([page.waitForURL(/\/\?error=/), page.click('#upload-form button[type=submit]')]);
      expect(await page.locator('#upload-status').textContent()).toMatch(reason);
      expect(await page.locator('h1').textContent()).toBe('Uploads with stowage');
      await screenshot(page, 'refused-upload-no-js.png');
    } finally {
      await context.close();
    }
  });
});

describe('examples/uploads against S3 (STOWAGE_URL)', () => {
  let s3: S3TestServer;
  let dyno: Dyno;
  beforeAll(async () => {
    s3 = await startS3Server({ bucket: 'uploads-example' });
    dyno = await start(join(work, 'apps', 'uploads'), { STOWAGE_URL: s3.storageUrl });
  });
  afterAll(async () => {
    await dyno?.kill();
    await s3?.stop();
  });

  it('takes a direct upload (presign, POST to the bucket, confirm) and shows it in the gallery', async () => {
    const png = pngBytes(12, 12, 5);
    const page = await (await fetch(dyno.url)).text();
    expect(page).toContain('Storage backend: <b>s3</b>');
    expect(page).not.toMatch(/<section hidden>/);

    const post = (path: string, body: unknown) =>
      fetch(`${dyno.url}/direct/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const grantRes = await post('presign', { size: png.length, contentType: 'image/png' });
    expect(grantRes.status).toBe(200);
    const grant = (await grantRes.json()) as {
      uploadKey: string;
      upload: { method: string; url: string; fields: Record<string, string>; fileField: string };
    };
    expect(grant.upload.method).toBe('POST');
    const form = new FormData();
    for (const [k, v] of Object.entries(grant.upload.fields)) form.append(k, v);
    if (!('Content-Type' in grant.upload.fields)) form.append('Content-Type', 'image/png');
    form.append(grant.upload.fileField, new Blob([png]), 'bird.png');
    const sent = await fetch(grant.upload.url, { method: 'POST', body: form });
    expect(sent.ok).toBe(true);
    const confirm = await post('confirm', {
      uploadKey: grant.uploadKey,
      sha256: sha256(png),
      filename: 'bird.png',
    });
    expect(confirm.status).toBe(200);
    const { file } = (await confirm.json()) as { file: { key: string } };
    expect(file.key).toMatch(/^gallery\//);

    expect(await (await fetch(dyno.url)).text()).toContain(`/files/${file.key}`);
    const image = await fetch(`${dyno.url}/files/${file.key}`);
    expect(sha256(Buffer.from(await image.arrayBuffer()))).toBe(sha256(png));
  });
});
