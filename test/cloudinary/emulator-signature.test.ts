import cloudinary from 'cloudinary';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import { collect, expectCode } from '../helpers/streams.js';
import {
  type CloudinaryEmulatorHandle,
  startCloudinaryEmulator,
} from '../servers/cloudinary-emulator/index.js';
import { configOf } from './harness.js';

const sdk = cloudinary.v2;

/** POSTs fields (and a file) as multipart, the way a browser form would. */
async function postForm(url: string, fields: Record<string, string>, file = 'hello') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file]), 'hello.txt');
  const res = await fetch(url, { method: 'POST', body: form });
  return {
    status: res.status,
    body: (await res.json()) as { error?: { message: string }; public_id?: string },
  };
}

describe('cloudinary emulator checks signatures as Cloudinary documents', () => {
  let emu: CloudinaryEmulatorHandle;
  let uploadUrl: string;
  const sign = (params: Record<string, unknown>, secret = emu.apiSecret) =>
    sdk.utils.sign_request(params as never, { api_key: emu.apiKey, api_secret: secret } as never) as Record<
      string,
      string
    >;
  beforeAll(async () => {
    emu = await startCloudinaryEmulator();
    uploadUrl = `${emu.baseUrl}/v1_1/${emu.cloudName}/raw/upload`;
  });
  afterAll(() => emu.stop());

  it('accepts a request signed by the SDK, & and = inside values included', async () => {
    const fields = sign({
      timestamp: Math.floor(Date.now() / 1000),
      public_id: 'sig/a&b=c',
      context: 'k=v\\|w',
    });
    const res = await postForm(uploadUrl, fields);
    expect(res.status).toBe(200);
    expect(res.body.public_id).toBe('sig/a&b=c');
  });

  it('refuses a request whose params were tampered with after signing', async () => {
    const fields = sign({ timestamp: Math.floor(Date.now() / 1000), public_id: 'sig/original' });
    const res = await postForm(uploadUrl, { ...fields, public_id: 'sig/tampered' });
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/Invalid Signature/);
    expect(emu.emulator.store.get('raw', 'sig/tampered')).toBeUndefined();
  });

  it('refuses a signature made with another secret, and a missing signature', async () => {
    const fields = sign({ timestamp: Math.floor(Date.now() / 1000), public_id: 'sig/x' }, 'not-the-secret');
    expect((await postForm(uploadUrl, fields)).status).toBe(401);
    const { signature: _dropped, ...unsigned } = sign({ timestamp: Math.floor(Date.now() / 1000) });
    expect((await postForm(uploadUrl, unsigned)).status).toBe(401);
  });

  it('refuses a stale timestamp even when correctly signed', async () => {
    const fields = sign({ timestamp: Math.floor(Date.now() / 1000) - 2 * 3600, public_id: 'sig/stale' });
    const res = await postForm(uploadUrl, fields);
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/Stale request/);
  });

  it('requires Basic auth on the Admin API', async () => {
    const url = `${emu.baseUrl}/v1_1/${emu.cloudName}/resources/raw/upload`;
    expect((await fetch(url)).status).toBe(401);
    const wrong = Buffer.from(`${emu.apiKey}:wrong-secret`).toString('base64');
    expect((await fetch(url, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(401);
    const right = Buffer.from(`${emu.apiKey}:${emu.apiSecret}`).toString('base64');
    expect((await fetch(url, { headers: { authorization: `Basic ${right}` } })).status).toBe(200);
  });

  it('refuses a tampered delivery signature', async () => {
    const storage = new CloudinaryStorage({ ...configOf(emu), signUrls: true });
    await storage.put('sig/delivered.txt', 'signed bytes');
    const url = await storage.url('sig/delivered.txt');
    expect(url).toMatch(/\/s--[A-Za-z0-9_-]{8}--\//);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('signed bytes');
    const tampered = url.replace(/s--([A-Za-z0-9_-])/, (_m, c: string) => `s--${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(tampered)).status).toBe(401);
  });
});

describe('cloudinary emulator configured for SHA-256 signatures', () => {
  let emu: CloudinaryEmulatorHandle;
  beforeAll(async () => {
    emu = await startCloudinaryEmulator({ signatureAlgorithm: 'sha256' });
  });
  afterAll(() => emu.stop());

  it('works end to end with signature_algorithm=sha256 from the URL', async () => {
    const storage = new CloudinaryStorage(configOf(emu));
    await storage.put('sha256/a.txt', 'two five six');
    expect((await collect((await storage.get('sha256/a.txt')).body)).toString()).toBe('two five six');
  });

  it('refuses SHA-1 signatures', async () => {
    const { signature_algorithm: _sha256, ...rest } = configOf(emu).options ?? {};
    const storage = new CloudinaryStorage({ ...configOf(emu), options: rest });
    await expectCode(storage.put('sha256/b.txt', 'sha1 signed'), 'ACCESS_DENIED');
  });
});
