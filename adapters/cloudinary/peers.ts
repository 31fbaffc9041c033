/** The SDK the Cloudinary adapter loads through importPeer (an optional peer of stowage). */
import type { PeerGroup } from '../../src/util/optional-peer.js';

export const CLOUDINARY_SDK: PeerGroup = {
  feature: 'stowage/cloudinary (cloudinary:// storage)',
  required: ['cloudinary'],
  all: ['cloudinary'],
};
