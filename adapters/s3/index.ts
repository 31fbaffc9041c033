/**
 * `stowage/s3`: the Storage contract over AWS S3 and S3-compatible stores,
 * through the AWS SDK v3 (optional peer dependencies). The SDK-bound module
 * is imported here, at load, through importPeer: without the SDK,
 * `import 'stowage/s3'` fails with one StowageError naming what to install.
 */
import { importPeer } from '../../src/util/optional-peer.js';
import { S3_SDK } from './peers.js';

export type { ChecksumMode, S3StorageOptions } from './options.js';
export { S3_PRESETS, type S3Preset } from './presets.js';

const sdkBound = await importPeer(S3_SDK, () => import('./s3-storage.js'));

export const S3Storage = sdkBound.S3Storage;
export type S3Storage = import('./s3-storage.js').S3Storage;
