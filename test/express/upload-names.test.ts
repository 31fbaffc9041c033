import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { errorHandler } from '../../src/express/error-handler.js';
import { serve } from '../../src/express/serve/index.js';
import { type UploadedFile, upload } from '../../src/express/upload/index.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../helpers/chromium.js';
import { postMultipart } from '../helpers/raw-multipart.js';
import { close, listen } from './upload/harness.js';

const run = promisify(execFile);
// express's own Content-Disposition parser: a client nobody here wrote.
const { parse } = createRequire(import.meta.url)('content-disposition') as {
  parse(header: string): { parameters: Record<string, string> };
};

warnIfNoChromium('UTF-8 file name round trip in Chromium');

const NAMES = ['résumé 日本.pdf', 'party 🎉😀.txt', 'Ελληνικά και русский.doc'];
const BOUNDARY = 'namesBoundary';
const CHROMIUM_NAMES = [...NAMES, 'say "hi".txt'];

/** One file part whose Content-Disposition parameters are exactly `dispositionParams`, sent as UTF-8 bytes. */
function rawPart(dispositionParams: string, data = 'hello'): Buffer {
  return Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; ${dispositionParams}\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n${data}\r\n--${BOUNDARY}--\r\n`,
    'utf8',
  );
}

describe('upload() file names: originalName is the name the user picked', () => {
  let server: Server;
  let port: number;
  let dir: string;
  let browser: Browser | undefined;
  const storage = new MemoryStorage({ baseUrl: '/files' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-names-'));
    const app = express();
    app.post('/upload', upload(storage), (req, res) => {
      res.json(req.stowage!.files);
    });
    app.use('/files', serve(storage));
    app.use(errorHandler({ log: false }));
    ({ server, port } = await listen(app));
    if (haveChromium) browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await close(server);
    await rm(dir, { recursive: true, force: true });
  });

  async function originalNameOf(body: Buffer): Promise<string> {
    const res = await postMultipart(port, BOUNDARY, body);
    expect(res.status, res.body).toBe(200);
    return (JSON.parse(res.body) as UploadedFile[])[0]!.originalName;
  }

  it('reads raw UTF-8 names, as browsers and curl send them', async () => {
    for (const name of NAMES) expect(await originalNameOf(rawPart(`filename="${name}"`))).toBe(name);
  });

  it("reads RFC 5987 filename*=UTF-8''… (and prefers it to the ASCII filename)", async () => {
    for (const name of NAMES) {
      const encoded = encodeURIComponent(name).replace(/'/g, '%27');
      expect(await originalNameOf(rawPart(`filename="fallback.bin"; filename*=UTF-8''${encoded}`))).toBe(
        name,
      );
    }
  });

  it('NFC-normalises (macOS Safari sends decomposed names)', async () => {
    const decomposed = 're\u0301sume\u0301.pdf';
    expect(await originalNameOf(rawPart(`filename="${decomposed}"`))).toBe('résumé.pdf');
  });

  it('undoes the %22 browsers send for a quote; a backslash is a path separator, as in multer', async () => {
    // Chromium, Firefox and curl all send a quote in a file name as %22 (HTML's multipart rules).
    expect(await originalNameOf(rawPart('filename="say %22hi%22.txt"'))).toBe('say "hi".txt');
    expect(await originalNameOf(rawPart('filename="C:\\\\Users\\\\me\\\\résumé.pdf"'))).toBe('résumé.pdf');
  });

  it('curl -F sends these names and upload() reads them back', async () => {
    for (const name of [...NAMES, 'say "hi".txt']) {
      const path = join(dir, name);
      await writeFile(path, 'from curl');
      // curl's @"path" form quotes the name; a quote in it is escaped with a backslash.
      const { stdout } = await run('curl', [
        '-sS',
        '--fail-with-body',
        '-F',
        `file=@"${path.replace(/"/g, '\\"')}"`,
        `http://127.0.0.1:${port}/upload`,
      ]);
      expect((JSON.parse(stdout) as UploadedFile[])[0]!.originalName).toBe(name);
    }
  });

  it('round trip: the name uploaded comes back in serve(…?download=) and parses to the same name', async () => {
    for (const name of [...NAMES, 'say "hi".txt']) {
      const [file] = JSON.parse(
        (await postMultipart(port, BOUNDARY, rawPart(`filename="${name.replace(/"/g, '%22')}"`))).body,
      ) as [UploadedFile];
      const url = await storage.url(file.key, { download: file.originalName });
      // undici (Node's fetch) reading the answer.
      const res = await fetch(`http://127.0.0.1:${port}${url}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const header = res.headers.get('content-disposition')!;
      expect(header).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
      expect(parse(header).parameters.filename).toBe(name);
    }
  });

  describe.skipIf(!haveChromium)('in headless Chromium', () => {
    it('a file picked in a form keeps its name through upload() and comes back as the download name', async () => {
      const context = await browser!.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      try {
        await page.goto(`http://127.0.0.1:${port}/files/none`);
        await page.setContent('<input type="file" id="pick" multiple>');
        await page.setInputFiles(
          '#pick',
          CHROMIUM_NAMES.map((name) => ({
            name,
            mimeType: 'application/octet-stream',
            buffer: Buffer.from(name),
          })),
        );
        // Chromium's own multipart encoding of the picked files (a script string: no DOM types here).
        const files = (await page.evaluate(`(async () => {
          const form = new FormData();
          for (const f of document.getElementById('pick').files) form.append('file', f);
          return (await fetch('/upload', { method: 'POST', body: form })).json();
        })()`)) as UploadedFile[];
        expect(files.map((f) => f.originalName)).toEqual(CHROMIUM_NAMES);
        for (const file of files) {
          const url = await storage.url(file.key, { download: file.originalName });
          await page.setContent(`<a id="dl" href="${url}">download</a>`);
          const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl')]);
          // Chromium itself turns characters Windows forbids (here `"`) into "_" when it saves.
          expect(download.suggestedFilename()).toBe(file.originalName.replace(/"/g, '_'));
          await download.cancel();
        }
      } finally {
        await context.close();
      }
    });
  });
});
