import { CloudinaryStorage, type CloudinaryStorageOptions } from '../../adapters/cloudinary/index.js';
import { parseStorageUrl } from '../../src/config/resolve.js';
import {
  type CloudinaryEmulatorHandle,
  type StartOptions,
  startCloudinaryEmulator,
} from '../servers/cloudinary-emulator/index.js';

/** The options CLOUDINARY_URL would give for this emulator (what createStorage passes). */
export function configOf(emu: CloudinaryEmulatorHandle): CloudinaryStorageOptions {
  const config = parseStorageUrl(emu.storageUrl);
  if (config.adapter !== 'cloudinary') throw new Error('emulator URL did not parse as cloudinary');
  return config.options;
}

export async function emulatorWithStorage(
  extra: Partial<CloudinaryStorageOptions> = {},
  start: StartOptions = {},
): Promise<{ emu: CloudinaryEmulatorHandle; storage: CloudinaryStorage }> {
  const emu = await startCloudinaryEmulator(start);
  const storage = new CloudinaryStorage({ ...configOf(emu), maxRetryDelayMs: 2_000, ...extra });
  return { emu, storage };
}

/** A real 1×1 PNG: the emulator, like Cloudinary, refuses image uploads that are not images. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
