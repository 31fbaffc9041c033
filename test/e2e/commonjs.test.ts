/**
 * A CommonJS app (most existing Express apps) uses the package through
 * require(esm): every entry point loads with require() on Node >= 20.19, and
 * an Express 4 app with upload() and serve() works end to end.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../express/upload/fixtures.js';
import { buildLibrary } from './build-lib.js';
import { bootDyno, type Dyno } from './dyno.js';
import { installProduction } from './install.js';

const run = promisify(execFile);
let work: string;
let app: string;
let dyno: Dyno | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-commonjs-'));
  app = join(work, 'app');
  const stowageDir = await buildLibrary(join(work, 'lib'));
  await installProduction(app, stowageDir, [
    'express4',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
    'cloudinary',
  ]);
  // The app depends on express@4 under its own name.
  await rename(join(app, 'node_modules/express4'), join(app, 'node_modules/express'));
  await writeFile(join(app, 'package.json'), '{ "name": "cjs-app", "private": true }\n');
}, 60_000);

afterAll(async () => {
  await dyno?.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('CommonJS apps', () => {
  it('require() loads every entry point, with its exports', async () => {
    const script = `
      const names = {};
      for (const entry of ['stowage', 'stowage/local', 'stowage/memory', 'stowage/s3', 'stowage/cloudinary', 'stowage/express', 'stowage/cli']) {
        names[entry] = Object.keys(require(entry)).sort();
      }
      console.log(JSON.stringify(names));
    `;
    const { stdout, stderr } = await run(process.execPath, ['-e', script], { cwd: app });
    const names = JSON.parse(stdout) as Record<string, string[]>;
    expect(names.stowage).toEqual(expect.arrayContaining(['createStorage', 'loadArtifacts', 'StowageError']));
    expect(names['stowage/local']).toEqual(['LocalStorage']);
    expect(names['stowage/memory']).toEqual(['MemoryStorage']);
    expect(names['stowage/s3']).toContain('S3Storage');
    expect(names['stowage/cloudinary']).toContain('CloudinaryStorage');
    expect(names['stowage/express']).toEqual(expect.arrayContaining(['upload', 'serve', 'errorHandler']));
    expect(names['stowage/cli']).toContain('runCli');
    expect(stderr).toBe('');
  });

  it('an Express 4 app written in CommonJS uploads and serves', async () => {
    await writeFile(
      join(app, 'server.js'),
      `'use strict';
const express = require('express');
const { createStorage } = require('stowage');
const { upload, serve, errorHandler } = require('stowage/express');

createStorage('file:./uploads').then((storage) => {
  const app = express();
  app.post('/photos', upload(storage, { allowedTypes: ['image/'] }), (req, res) => res.json(req.stowage.files));
  app.use('/files', serve(storage));
  app.use(errorHandler());
  app.listen(Number(process.env.PORT), '127.0.0.1');
});
`,
    );
    const { stdout: version } = await run(
      process.execPath,
      ['-p', "require('express/package.json').version"],
      {
        cwd: app,
      },
    );
    expect(version.trim()).toMatch(/^4\./);
    dyno = await bootDyno(app, {}, 'node server.js');
    await dyno.bound();
    const png = pngBytes();
    const form = new FormData();
    form.append('photo', new Blob([png]), 'me.png');
    const res = await fetch(`${dyno.url}/photos`, { method: 'POST', body: form });
    expect(res.status, dyno.logs()).toBe(200);
    const [file] = (await res.json()) as { key: string; contentType: string }[];
    expect(file?.contentType).toBe('image/png');
    const got = await fetch(`${dyno.url}/files/${file?.key}`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true);
  });
});
