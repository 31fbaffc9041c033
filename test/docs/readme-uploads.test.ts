import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Express } from 'express';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../express/upload/fixtures.js';
import { codeBlocks, fromSources, REPO, readmeSection, typeErrors } from './readme-snippets.js';

// What the README's upload snippet takes from the app around it: the app, its storage and its own session check.
const PREAMBLE = `import type { IncomingMessage } from 'node:http';
import express from 'express';
import { MemoryStorage } from 'stowage/memory';
export const app = express();
export const storage = new MemoryStorage();
function currentUser(req: IncomingMessage): { id: string } | undefined {
  const id = req.headers['x-user'];
  return typeof id === 'string' ? { id } : undefined;
}
`;

const section = readmeSection('Uploads — ');
const [snippet] = codeBlocks(section, ['ts']);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('README: Uploads — upload() and directUpload()', () => {
  it('has one TypeScript snippet', () => {
    expect(snippet).toContain('upload(storage');
  });

  it('type-checks under the strict tsconfig, as written', () => {
    const file = join(REPO, 'test', 'docs', 'readme-uploads.snippet.ts');
    expect(typeErrors(fromSources(`${PREAMBLE}${snippet}`, file), file)).toEqual([]);
  });

  it('runs as written: the upload route answers with the stored files, directUpload asks the session', async () => {
    // Inside the repo, so that express resolves from its node_modules.
    const dir = await mkdtemp(join(REPO, 'test', 'docs', '.tmp-snippet-'));
    dirs.push(dir);
    const file = join(dir, 'uploads-snippet.ts');
    await writeFile(file, fromSources(`${PREAMBLE}${snippet}`, file));
    const { app } = (await import(file)) as { app: Express };

    const png = pngBytes();
    const stored = await supertest(app).post('/photos').attach('photo', png, 'me.png');
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual([
      expect.objectContaining({
        field: 'photo',
        size: png.length,
        contentType: 'image/png',
        originalName: 'me.png',
      }),
    ]);
    const refused = await supertest(app)
      .post('/photos')
      .attach('photo', Buffer.from('not an image'), 'a.txt');
    expect(refused.status).toBe(415);
    expect(refused.body.error.code).toBe('UNSUPPORTED_TYPE');
    const anonymous = await supertest(app).post('/direct/presign').send({ size: 10 });
    expect(anonymous.status).toBe(403);
  });
});

describe('README: Local disk — stowage/local', () => {
  it('type-checks under the strict tsconfig, as written', () => {
    const blocks = codeBlocks(readmeSection('Local disk — '), ['ts']);
    expect(blocks).toHaveLength(1);
    const file = join(REPO, 'test', 'docs', 'readme-local.snippet.ts');
    expect(typeErrors(fromSources(blocks[0]!, file), file)).toEqual([]);
  });
});
