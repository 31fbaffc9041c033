import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import { collect, expectCode } from '../helpers/streams.js';
import {
  type CloudinaryEmulatorHandle,
  startCloudinaryEmulator,
} from '../servers/cloudinary-emulator/index.js';
import { configOf, emulatorWithStorage, TINY_PNG } from './harness.js';

describe('cloudinary url()', () => {
  let emu: CloudinaryEmulatorHandle;
  let storage: CloudinaryStorage;
  beforeAll(async () => {
    ({ emu, storage } = await emulatorWithStorage({ folder: 'site' }));
    await storage.put('img/logo.png', TINY_PNG);
    await storage.put('files/report 1.txt', 'quarterly');
  });
  afterAll(() => emu.stop());

  it('builds a plain delivery URL that serves the original bytes', async () => {
    const url = await storage.url('files/report 1.txt');
    expect(url).toBe(`${emu.baseUrl}/${emu.cloudName}/raw/upload/v1/site/files/report~201.txt`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('quarterly');
  });

  it('passes an object transformation through, signed, and the URL is fetchable', async () => {
    const url = await storage.url('img/logo.png', { transform: { width: 100, crop: 'fill' } });
    expect(url).toMatch(/\/image\/upload\/s--[A-Za-z0-9_-]{8}--\/c_fill,w_100\/v1\/site\/img\/logo\.png$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-emulator-transformation')).toBe('c_fill,w_100');
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), TINY_PNG)).toBe(0);
  });

  it('passes a transformation string through as written', async () => {
    const url = await storage.url('img/logo.png', { transform: 'w_50,h_50,c_thumb/e_grayscale' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-emulator-transformation')).toBe('w_50,h_50,c_thumb/e_grayscale');
  });

  it('refuses a transformation on a raw file, and expiresIn with a transformation', async () => {
    await expectCode(storage.url('files/report 1.txt', { transform: { width: 10 } }), 'NOT_SUPPORTED');
    await expectCode(
      storage.url('img/logo.png', { expiresIn: 60, transform: { width: 10 } }),
      'NOT_SUPPORTED',
    );
  });

  it('signs an expiring download URL that the emulator serves, and refuses when tampered', async () => {
    const url = await storage.url('files/report 1.txt', { expiresIn: 300 });
    expect(url).toContain('expires_at=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('quarterly');
    const tampered = new URL(url);
    tampered.searchParams.set('expires_at', String(Number(tampered.searchParams.get('expires_at')) + 3600));
    expect((await fetch(tampered)).status).toBe(401);
  });

  it('asks for a download with fl_attachment', async () => {
    const res = await fetch(await storage.url('img/logo.png', { download: 'my logo.png' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment; filename="my_logo"');
  });

  it('serves range reads from the delivery URL', async () => {
    const { body, range } = await storage.get('files/report 1.txt', { range: { start: 2, end: 4 } });
    expect(range).toEqual({ start: 2, end: 4 });
    expect((await collect(body)).toString()).toBe('art');
  });

  it('signs every delivery URL with signUrls, as strict transformations need', async () => {
    const strict = await startCloudinaryEmulator({ requireSignedDelivery: true });
    try {
      const plain = new CloudinaryStorage(configOf(strict));
      const signed = new CloudinaryStorage({ ...configOf(strict), signUrls: true });
      await signed.put('s/x.txt', 'strict');
      expect((await fetch(await plain.url('s/x.txt'))).status).toBe(401);
      expect((await fetch(await signed.url('s/x.txt'))).status).toBe(200);
      expect((await collect((await signed.get('s/x.txt')).body)).toString()).toBe('strict');
    } finally {
      await strict.stop();
    }
  });
});

describe('cloudinary presignUpload()', () => {
  let emu: CloudinaryEmulatorHandle;
  let storage: CloudinaryStorage;
  beforeAll(async () => {
    ({ emu, storage } = await emulatorWithStorage({ folder: 'direct' }));
  });
  afterAll(() => emu.stop());

  async function browserUpload(
    grant: Awaited<ReturnType<CloudinaryStorage['presignUpload']>>,
    file: Buffer,
    name: string,
  ) {
    const form = new FormData();
    for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
    form.append(grant.fileField, new Blob([file]), name);
    const res = await fetch(grant.url, { method: grant.method, body: form });
    return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
  }

  it('returns signed fields a browser can POST; the object then reads back under its key', async () => {
    const grant = await storage.presignUpload('avatars/u1.png', {
      maxSize: 1_000_000,
      contentType: 'image/png',
      metadata: { owner: 'u1' },
    });
    expect(grant.method).toBe('POST');
    expect(grant.fields).toMatchObject({ api_key: emu.apiKey, allowed_formats: 'png' });
    expect(grant.fields.signature).toMatch(/^[a-f0-9]{40}$/);
    expect(grant.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(JSON.stringify(grant)).not.toContain(emu.apiSecret);
    const res = await browserUpload(grant, TINY_PNG, 'u1.png');
    expect(res.status).toBe(200);
    const head = await storage.head('avatars/u1.png');
    expect(head.metadata).toEqual({ owner: 'u1' });
    expect(head.contentType).toBe('image/png');
    expect(head.size).toBe(TINY_PNG.length);
  });

  it('the grant cannot be redirected to another key, and refuses other formats', async () => {
    const grant = await storage.presignUpload('avatars/u2.png', { maxSize: 1000, contentType: 'image/png' });
    const moved = await browserUpload(
      { ...grant, fields: { ...grant.fields, public_id: 'direct/avatars/evil' } },
      TINY_PNG,
      'a.png',
    );
    expect(moved.status).toBe(401);
    const gif = Buffer.from('GIF89a\u0001\u0000\u0001\u0000', 'latin1');
    const wrongFormat = await browserUpload(grant, gif, 'a.gif');
    expect(wrongFormat.status).toBe(400);
    expect(await storage.exists('avatars/u2.png')).toBe(false);
  });

  it('validates its arguments', async () => {
    await expectCode(storage.presignUpload('a.png', {} as never), 'INVALID_ARGUMENT');
    await expectCode(storage.presignUpload('a.png', { maxSize: 10, expiresIn: 7200 }), 'INVALID_ARGUMENT');
    await expectCode(
      storage.presignUpload('a.bin', { maxSize: 10, contentType: 'image/' }),
      'INVALID_ARGUMENT',
    );
    await expectCode(storage.presignUpload('../a.png', { maxSize: 10 }), 'INVALID_KEY');
  });
});

describe('two CloudinaryStorage instances', () => {
  it('never share credentials or endpoints (per-call SDK options)', async () => {
    const [a, b] = await Promise.all([
      startCloudinaryEmulator(),
      startCloudinaryEmulator({ cloudName: 'other-cloud' }),
    ]);
    try {
      const sa = new CloudinaryStorage(configOf(a));
      const sb = new CloudinaryStorage(configOf(b));
      await Promise.all([sa.put('k.txt', 'from a'), sb.put('k.txt', 'from b')]);
      const [ga, gb] = await Promise.all([sa.get('k.txt'), sb.get('k.txt')]);
      expect((await collect(ga.body)).toString()).toBe('from a');
      expect((await collect(gb.body)).toString()).toBe('from b');
      expect(a.emulator.store.resources.size).toBe(1);
      expect(b.emulator.store.resources.size).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
