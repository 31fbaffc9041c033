/**
 * A Cloudinary emulator on 127.0.0.1 for tests, driven by the real
 * `cloudinary` SDK. It checks what Cloudinary checks: the signature of every
 * Upload API call (all params but file, cloud_name, resource_type and
 * api_key; sorted; `k=v` joined with `&`, `&` in a pair escaped; secret
 * appended; SHA-1, or SHA-256 when configured), timestamps older than an
 * hour, Basic auth on the Admin API, and `s--…--` delivery signatures.
 *
 * Routes (API under /v1_1/<cloud>/):
 *   POST <rt>/upload     multipart upload; a URL in `file` is fetched (copy);
 *                        chunked with X-Unique-Upload-Id + Content-Range
 *   POST <rt>/destroy, POST <rt>/rename
 *   GET  <rt>/download   private_download_url (signed, expires_at)
 *   GET  resources/<rt>/upload/<public_id>            Admin API resource
 *   GET  resources/<rt>/upload?prefix&max_results&next_cursor&context
 *   DELETE resources/<rt>/upload  (public_ids[])
 * Delivery: GET /<cloud>/<rt>/upload/[s--sig--/][transformation/][vN/]<public_id>[.format], with Range.
 * A transformation is not applied; it is echoed in `x-emulator-transformation`.
 *
 * Usage:
 *   const emu = await startCloudinaryEmulator();
 *   // emu.storageUrl: cloudinary://key:secret@cloud?upload_prefix=…&secure=false&cname=…
 *   emu.failNext(2, 420, 1); // the next 2 API calls answer 420 with Retry-After: 1
 *   await emu.stop();
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudinaryEmulator, type EmulatorSettings } from './emulator.js';
import type { SignatureAlgorithm } from './signature.js';

export interface CloudinaryEmulatorHandle {
  port: number;
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** A CLOUDINARY_URL-style URL whose query points the SDK (API and delivery) at the emulator. */
  storageUrl: string;
  /** `http://127.0.0.1:<port>`: the upload_prefix. */
  baseUrl: string;
  /** The next `count` API calls answer `status` (e.g. 420), with Retry-After when given. */
  failNext(count: number, status: number, retryAfter?: number): void;
  /** Public ids of stored resources and ids of unfinished chunked uploads. */
  emulator: CloudinaryEmulator;
  stop(): Promise<void>;
}

export interface StartOptions {
  cloudName?: string;
  apiKey?: string;
  apiSecret?: string;
  signatureAlgorithm?: SignatureAlgorithm;
  requireSignedDelivery?: boolean;
}

export async function startCloudinaryEmulator(options: StartOptions = {}): Promise<CloudinaryEmulatorHandle> {
  const settings: EmulatorSettings = {
    cloudName: options.cloudName ?? 'stowage-test',
    apiKey: options.apiKey ?? '123456789012345',
    apiSecret: options.apiSecret ?? `emu-secret-${Math.random().toString(36).slice(2, 14)}`,
    signatureAlgorithm: options.signatureAlgorithm ?? 'sha1',
    maxTimestampAge: 3600,
    requireSignedDelivery: options.requireSignedDelivery ?? false,
  };
  const emulator = new CloudinaryEmulator(settings);
  const server = createServer((req, res) => {
    void emulator.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  emulator.baseUrl = baseUrl;
  const query = new URLSearchParams({
    upload_prefix: baseUrl,
    secure: 'false',
    cname: `127.0.0.1:${port}`,
    ...(settings.signatureAlgorithm === 'sha256' ? { signature_algorithm: 'sha256' } : {}),
  });
  const storageUrl = `cloudinary://${settings.apiKey}:${settings.apiSecret}@${settings.cloudName}?${query}`;
  return {
    port,
    cloudName: settings.cloudName,
    apiKey: settings.apiKey,
    apiSecret: settings.apiSecret,
    storageUrl,
    baseUrl,
    emulator,
    failNext: (count, status, retryAfter) => emulator.failNext(count, status, retryAfter),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
