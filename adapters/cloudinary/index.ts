/**
 * `stowage/cloudinary`: the Storage contract over Cloudinary, through the
 * official `cloudinary` SDK (an optional peer dependency, loaded only here).
 */
export { CloudinaryStorage } from './cloudinary-storage.js';
export {
  decodePath as decodePublicIdPath,
  encodePath as encodePublicIdPath,
  type ResourceType,
  type Target as CloudinaryTarget,
} from './public-id.js';
export type { CloudinaryStorageOptions } from './settings.js';
