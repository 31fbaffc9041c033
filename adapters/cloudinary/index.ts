/**
 * `stowage/cloudinary`: the Storage contract over Cloudinary, through the
 * official `cloudinary` SDK (an optional peer dependency). The SDK-bound
 * module is imported here, at load, through importPeer: without the SDK,
 * `import 'stowage/cloudinary'` fails with one StowageError naming what to install.
 */
import { importPeer } from '../../src/util/optional-peer.js';
import { CLOUDINARY_SDK } from './peers.js';

export type {
  ResourceType,
  Target as CloudinaryTarget,
} from './public-id.js';
export type { CloudinaryStorageOptions, CloudinaryUrlOptions } from './settings.js';

const sdkBound = await importPeer(CLOUDINARY_SDK, () => import('./cloudinary-storage.js'));

export const CloudinaryStorage = sdkBound.CloudinaryStorage;
export type CloudinaryStorage = import('./cloudinary-storage.js').CloudinaryStorage;
