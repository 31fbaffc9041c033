import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../../adapters/local/index.js';
import { MemoryStorage } from '../../adapters/memory/index.js';
import { attachmentDisposition, downloadName } from '../../src/util/content-disposition.js';

// express's own parser (a dependency of express 5): a client nobody here wrote.
const { parse } = createRequire(import.meta.url)('content-disposition') as {
  parse(header: string): { type: string; parameters: Record<string, string> };
};

describe('attachmentDisposition (RFC 6266)', () => {
  it('an ASCII name needs only filename', () => {
    expect(attachmentDisposition('photo.jpg')).toBe('attachment; filename="photo.jpg"');
  });

  it('gives the exact UTF-8 name in filename* and an ASCII fallback that parses', () => {
    for (const name of ['résumé 日本.pdf', 'smile 😀.txt', 'a"b.txt', "it's (1) *.txt", '100% sure.txt']) {
      const header = attachmentDisposition(name);
      expect(header).toMatch(
        /^attachment; filename="[\x20-\x7e]*"(; filename\*=UTF-8''[A-Za-z0-9%!._~-]+)?$/,
      );
      expect(parse(header).parameters.filename, name).toBe(name);
      const fallback = /filename="([^"]*)"/.exec(header)![1]!;
      expect(fallback).not.toMatch(/["%\\/]/);
    }
    expect(attachmentDisposition('résumé 日本.pdf')).toBe(
      `attachment; filename="r_sum_ __.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.pdf`,
    );
  });

  it('neutralises control characters and path separators, and NFC-normalises', () => {
    const header = attachmentDisposition('../a\r\nSet-Cookie: x=1\\b\u0085.txt');
    expect(header).not.toMatch(/[\r\n\u0085]/);
    expect(parse(header).parameters.filename).toBe('.._aSet-Cookie: x=1_b.txt');
    // macOS hands out decomposed names: e + U+0301.
    expect(parse(attachmentDisposition('re\u0301sume\u0301.pdf')).parameters.filename).toBe('résumé.pdf');
    expect(attachmentDisposition('\u0000\u0001')).toBe('attachment; filename="download"');
  });

  it('names a download after the key unless a name is given', () => {
    expect(downloadName(true, 'a/b/photo.jpg')).toBe('photo.jpg');
    expect(downloadName('x.jpg', 'a/b/photo.jpg')).toBe('x.jpg');
  });
});

describe('url({ download }) on the adapters served by serve()', () => {
  it('memory and local point at serve() with ?download=', async () => {
    const memory = new MemoryStorage({ baseUrl: '/files' });
    expect(await memory.url('a/b.txt', { download: true })).toBe('/files/a/b.txt?download=1');
    expect(await memory.url('a/b.txt', { download: 'résumé.txt' })).toBe(
      '/files/a/b.txt?download=r%C3%A9sum%C3%A9.txt',
    );
    const local = new LocalStorage({ root: tmpdir(), baseUrl: '/files' });
    expect(await local.url('a/b.txt', { download: 'x y.txt' })).toBe('/files/a/b.txt?download=x%20y.txt');
    await expect(memory.url('a/b.txt', { download: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
