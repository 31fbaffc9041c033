import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import {
  decodePath as decodePublicIdPath,
  encodePath as encodePublicIdPath,
} from '../../adapters/cloudinary/public-id.js';
import { ODD_LEGAL_KEYS } from '../../src/testing/hostile-keys.js';
import { collect, expectCode } from '../helpers/streams.js';
import type { CloudinaryEmulatorHandle } from '../servers/cloudinary-emulator/index.js';
import { emulatorWithStorage, TINY_PNG } from './harness.js';

/** Characters Cloudinary refuses in a public_id, plus the escape character itself used raw. */
const REFUSED = /[?&#%\\<>+ ]/;

describe('key ↔ public_id encoding', () => {
  const samples = [
    ...ODD_LEGAL_KEYS,
    'plain/file.txt',
    'tilde~and~2E/literal.txt',
    'trailing.dot./x.',
    'back\\slash-is-invalid-but-encodes',
    'a<b>c|d"e*f:g',
    'ünï/漢字/🎉',
  ];

  it.each(samples)('round-trips %s and uses no refused character', (key) => {
    const encoded = encodePublicIdPath(key);
    expect(decodePublicIdPath(encoded)).toBe(key);
    expect(encoded).not.toMatch(REFUSED);
    for (const segment of encoded.split('/')) expect(segment.endsWith('.')).toBe(false);
  });

  it('is injective on keys that differ only by escapes', () => {
    const keys = ['a~20b', 'a b', 'a~7E20b', 'a%20b'];
    const encoded = new Set(keys.map(encodePublicIdPath));
    expect(encoded.size).toBe(keys.length);
  });
});

describe('cloudinary key mapping in the store', () => {
  let emu: CloudinaryEmulatorHandle;
  let storage: CloudinaryStorage;
  beforeAll(async () => {
    ({ emu, storage } = await emulatorWithStorage({ folder: 'app/uploads' }));
  });
  afterAll(() => emu.stop());

  it('stores raw files under folder + encoded key, extension kept', async () => {
    await storage.put('docs/a b?.txt', 'raw');
    const stored = emu.emulator.store.get('raw', 'app/uploads/docs/a~20b~3F.txt');
    expect(stored?.data.toString()).toBe('raw');
  });

  it('stores images with the extension as format, and gives the exact key back', async () => {
    const info = await storage.put('photos/Cat Pic.JPG', TINY_PNG);
    expect(info.key).toBe('photos/Cat Pic.JPG');
    expect(info.contentType).toBe('image/jpeg');
    const stored = emu.emulator.store.get('image', 'app/uploads/photos/Cat~20Pic');
    expect(stored?.format).toBe('png');
    expect((await storage.head('photos/Cat Pic.JPG')).size).toBe(TINY_PNG.length);
    expect(Buffer.compare(await collect((await storage.get('photos/Cat Pic.JPG')).body), TINY_PNG)).toBe(0);
    const listed: string[] = [];
    for await (const entry of storage.list('photos/Cat')) listed.push(entry.key);
    expect(listed).toEqual(['photos/Cat Pic.JPG']);
    await storage.delete('photos/Cat Pic.JPG');
    expect(emu.emulator.store.get('image', 'app/uploads/photos/Cat~20Pic')).toBeUndefined();
  });

  it('image keys differing only by extension share one asset: the later one wins', async () => {
    await storage.put('same/stem.png', TINY_PNG);
    await storage.put('same/stem.gif', Buffer.from('GIF89a\u0001\u0000\u0001\u0000', 'latin1'));
    expect(await storage.exists('same/stem.gif')).toBe(true);
    await expectCode(storage.head('same/stem.png'), 'NOT_FOUND');
    await storage.delete('same/stem.png'); // not its asset: must not delete stem.gif
    expect(await storage.exists('same/stem.gif')).toBe(true);
  });

  it('a key without extension takes its type from the content type, and lives in one place only', async () => {
    await storage.put('avatar/42', TINY_PNG, { contentType: 'image/png' });
    expect(emu.emulator.store.get('image', 'app/uploads/avatar/42')).toBeDefined();
    expect((await storage.head('avatar/42')).contentType).toBe('image/png');
    await storage.put('avatar/42', 'now text', { contentType: 'text/plain' });
    expect(emu.emulator.store.get('image', 'app/uploads/avatar/42')).toBeUndefined();
    expect(emu.emulator.store.get('raw', 'app/uploads/avatar/42')?.data.toString()).toBe('now text');
    const listed: string[] = [];
    for await (const entry of storage.list('avatar/')) listed.push(entry.key);
    expect(listed).toEqual(['avatar/42']);
  });

  it('chooses the resource type from listed extensions: .mp3 is video, .ts and .pdf stay raw', async () => {
    expect(storage.targetFor('a/song.mp3').type).toBe('video');
    expect(storage.targetFor('src/app.ts').type).toBe('raw');
    expect(storage.targetFor('doc.pdf', 'image/png').type).toBe('raw');
    expect(storage.targetFor('noext', 'video/mp4').type).toBe('video');
    await storage.put('a/song.mp3', 'not really audio');
    expect(emu.emulator.store.get('video', 'app/uploads/a/song')?.format).toBe('mp3');
    expect((await collect((await storage.get('a/song.mp3')).body)).toString()).toBe('not really audio');
  });

  it('refuses non-image bytes under an image key with UNSUPPORTED_TYPE, storing nothing', async () => {
    await expectCode(storage.put('photos/fake.png', 'not a png'), 'UNSUPPORTED_TYPE');
    expect(await storage.exists('photos/fake.png')).toBe(false);
  });

  it('pages with pageSize as max_results and resumes after startAfter', async () => {
    for (const n of [1, 2, 3, 4, 5]) await storage.put(`pages/${n}.txt`, String(n));
    const from = emu.emulator.requests.length;
    const all: string[] = [];
    for await (const entry of storage.list('pages/', { pageSize: 2 })) all.push(entry.key);
    expect(all.sort()).toEqual(['pages/1.txt', 'pages/2.txt', 'pages/3.txt', 'pages/4.txt', 'pages/5.txt']);
    const rawPages = emu.emulator.requests.slice(from).filter((r) => r.path.includes('/resources/raw/'));
    expect(rawPages.length).toBe(3);
    const rest: string[] = [];
    for await (const entry of storage.list('pages/', { startAfter: 'pages/3.txt' })) rest.push(entry.key);
    expect(rest.sort()).toEqual(['pages/4.txt', 'pages/5.txt']);
  });

  it('skips resources outside the folder or not written by stowage when listing', async () => {
    emu.emulator.store.put('raw', 'elsewhere/x.txt', Buffer.from('x'), undefined, {});
    emu.emulator.store.put('raw', 'app/uploads/bad~zzescape', Buffer.from('x'), undefined, {});
    const listed: string[] = [];
    for await (const entry of storage.list('')) listed.push(entry.key);
    expect(listed).not.toContain('elsewhere/x.txt');
    expect(listed.some((k) => k.includes('bad'))).toBe(false);
  });

  it('keeps metadata values with Cloudinary context separators intact', async () => {
    const metadata = { tricky: 'a=b|c\\d%41', empty: '' };
    await storage.put('meta/tricky.txt', 'm', { metadata, contentType: 'text/plain; charset=utf-8' });
    const head = await storage.head('meta/tricky.txt');
    expect(head.metadata).toEqual(metadata);
    expect(head.contentType).toBe('text/plain; charset=utf-8');
  });
});
