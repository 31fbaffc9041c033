import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudinaryStorage } from '../../adapters/cloudinary/index.js';
import { createStorage } from '../../src/config/create-storage.js';
import { collect, expectCode } from '../helpers/streams.js';
import {
  type CloudinaryEmulatorHandle,
  startCloudinaryEmulator,
} from '../servers/cloudinary-emulator/index.js';

describe('cloudinary through createStorage()', () => {
  let emu: CloudinaryEmulatorHandle;
  beforeAll(async () => {
    emu = await startCloudinaryEmulator();
  });
  afterAll(() => emu.stop());

  it('builds a CloudinaryStorage from a cloudinary:// URL with a folder and SDK settings in the query', async () => {
    const url = emu.storageUrl.replace(`@${emu.cloudName}?`, `@${emu.cloudName}/from-url?`);
    const storage = await createStorage(url, {});
    expect(storage).toBeInstanceOf(CloudinaryStorage);
    await storage.put('a.txt', 'via url');
    expect(emu.emulator.store.get('raw', 'from-url/a.txt')).toBeDefined();
    expect((await collect((await storage.get('a.txt')).body)).toString()).toBe('via url');
  });

  it('validates its options with INVALID_ARGUMENT naming the option', async () => {
    const base = { cloudName: 'c', apiKey: 'k', apiSecret: 'secret-value' };
    const err = await expectCode(
      async () => new CloudinaryStorage({ ...base, apiKey: '' }),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toContain('apiKey');
    await expectCode(async () => new CloudinaryStorage({ ...base, chunkSize: 0 }), 'INVALID_ARGUMENT');
    await expectCode(
      async () => new CloudinaryStorage({ ...base, options: { upload_prefix: 'ftp://x' } }),
      'INVALID_ARGUMENT',
    );
    await expectCode(
      async () => new CloudinaryStorage({ ...base, resourceType: 'pdf' as never }),
      'INVALID_ARGUMENT',
    );
  });
});
